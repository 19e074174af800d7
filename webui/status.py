"""What the référent's status page gathers: daemons up (their PID files), the ENT and national
services' availability over 30 days (drawn here as SVG, with its table), list age, certificates
near expiry, the last apply and today's logins. Each part says "unknown" rather than fail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography import x509
from markupsafe import Markup, escape

from appliance.apply.generations import Store as Generations
from appliance.journal import segment
from filtering.generations import Store as Lists
from filtering.updatestatus import read_status
from monitoring import history

SOON_DAYS = 30  # a certificate expiring within this is shown as a warning


@dataclass(frozen=True)
class Cert:
    path: str
    subject: str
    expires: datetime
    soon: bool


def daemons(run: Path | None) -> list[tuple[str, bool]]:
    """(unit, running) for every daemon that recorded a PID (run/units/NAME.pid)."""
    if run is None or not (run / "units").is_dir():
        return []
    out = []
    for pid_file in sorted((run / "units").glob("*.pid")):
        try:
            alive = Path(f"/proc/{int(pid_file.read_text().strip())}").exists()
        except (OSError, ValueError):
            alive = False
        out.append((pid_file.stem, alive))
    return out


def certificates(state: Path, now: datetime) -> list[Cert]:
    found = []
    for path in sorted([*state.glob("*/*.pem"), *state.glob("*/*/*.pem")])[:50]:
        try:
            data = path.read_bytes()
            if b"BEGIN CERTIFICATE" not in data:
                continue
            cert = x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE"):])
        except (OSError, ValueError):
            continue
        expires = cert.not_valid_after_utc
        found.append(Cert(str(path.relative_to(state)), cert.subject.rfc4514_string(), expires,
                          (expires - now).days < SOON_DAYS))
    return found


def lists(state: Path) -> dict[str, str]:
    doc = read_status(Lists(state / "filtering" / "index.cidx"))
    return {k: str(doc[k]) for k in ("result", "finished", "last_success", "reason") if k in doc}


def last_apply(state: Path) -> str | None:
    current = Generations(state / "generations").current()
    return f"{current.number} ({current.local_time()})" if current else None


def logins_today(journal: Path, today: date) -> tuple[int, int] | None:
    """(successes, failures) of today's auth records, or None without a segment."""
    path = segment.segment_path(journal, "auth", today)
    if not path.exists():
        return None
    conn = segment.connect(path, "auth", today, create=False)
    try:
        ok = bad = 0
        for (body,) in conn.execute("SELECT body FROM records"):
            outcome = json.loads(body).get("outcome")
            ok += outcome == "success"
            bad += outcome == "failure"
        return ok, bad
    finally:
        conn.close()


Days = list[tuple[date, int, int]]


def availability(run: Path | None, today: date) -> dict[str, Days]:
    if run is None:
        return {}
    found = history.load(run / "monitoring" / history.FILE)
    return {service: history.series(found, service, today) for service in sorted(found)}


def chart(service: str, days: Days, label: str) -> Markup:
    """30 bars, one a day, height the share of good rounds; grey where no data."""
    width, height, bar = 30 * 12, 60, 10
    rects = []
    for n, (day, ok, total) in enumerate(days):
        share = ok / total if total else None
        h = 2 if share is None else max(2, round(share * height))
        colour = "#929292" if share is None else "#18753c" if share >= 0.99 else \
            "#b34000" if share >= 0.9 else "#ce0500"
        rects.append(f'<rect x="{n * 12}" y="{height - h}" width="{bar}" height="{h}" '
                     f'fill="{colour}"><title>{day.isoformat()}: '
                     f'{"—" if share is None else f"{share:.1%}"}</title></rect>')
    ident = "svg-" + "".join(ch if ch.isalnum() else "-" for ch in service)
    return Markup(  # noqa: S704 - every value above is ours or escaped below
        f'<svg role="img" aria-labelledby="{ident}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}">{escape(label)}</title>{"".join(rects)}</svg>')


def uptime(days: Days) -> str:
    """Successful rounds over the 30 days, as a share of all rounds."""
    ok, total = sum(d[1] for d in days), sum(d[2] for d in days)
    return f"{ok / total:.1%}" if total else "—"
