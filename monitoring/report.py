"""``carine monitor report``: the month's availability of every probed target against the site's
objective (D-SUP-3), as a text table or JSON, from Prometheus or from a saved answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitoring.availability import (
    Figures,
    Month,
    Samples,
    Window,
    as_local,
    minutes,
    month_figures,
)

TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Report:
    month: Month
    objective: float
    windows: list[Window]  # those that touch the month
    figures: list[Figures]


def build_report(month: Month, samples: Samples, windows: list[Window],
                 objective: float) -> Report:
    touching = sorted((w for w in windows if w.start < month.end and w.end > month.start),
                      key=lambda w: (w.start, w.end))
    return Report(month, objective, touching, month_figures(month, samples, touching))


def _verdict(f: Figures, objective: float) -> str:
    met = f.met(objective)
    return "no data" if met is None else "met" if met else "MISSED"


def render_text(report: Report) -> str:
    m = report.month
    lines = [f"Availability {m.name} ({m.zone}, {as_local(m.start, m.zone):{TIME}} → "
             f"{as_local(m.end, m.zone):{TIME}}), objective {report.objective:.2f} %"]
    for w in report.windows:
        lines.append(f"maintenance: {as_local(w.start, m.zone):{TIME}} → "
                     f"{as_local(w.end, m.zone):{TIME}}" + (f"  {w.comment}" if w.comment else ""))
    if not report.figures:
        lines.append("no probe series in this month")
        return "\n".join(lines) + "\n"
    header = ("uai", "service", "path", "target", "availability", "down", "no data",
              "maintenance", "objective")
    rows = [header]
    for f in report.figures:
        value = f.availability
        rows.append((*f.key[:2], f.key[3], f.key[2],
                     "-" if value is None else f"{value:.3f} %", minutes(f.down),
                     minutes(f.unknown), minutes(f.maintenance), _verdict(f, report.objective)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip())
    missed = sum(1 for f in report.figures if f.met(report.objective) is False)
    lines.append("")
    lines.append(f"{len(report.figures)} target(s) and path(s), {missed} below the objective")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    m = report.month
    return {
        "month": m.name,
        "timezone": m.zone,
        "start": as_local(m.start, m.zone).isoformat(),
        "end": as_local(m.end, m.zone).isoformat(),
        "objective_percent": report.objective,
        "maintenance": [{"start": as_local(w.start, m.zone).isoformat(),
                         "end": as_local(w.end, m.zone).isoformat(), "comment": w.comment}
                        for w in report.windows],
        "targets": [{
            "uai": f.key[0], "service": f.key[1], "target": f.key[2], "path": f.key[3],
            "availability_percent": f.availability,
            "objective_met": f.met(report.objective),
            "up_minutes": f.up, "down_minutes": f.down, "no_data_minutes": f.unknown,
            "maintenance_minutes": f.maintenance,
            "allowed_down_minutes": f.allowed_down(report.objective),
        } for f in report.figures],
    }


def render_json(report: Report) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"
