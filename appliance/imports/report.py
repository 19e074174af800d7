"""What an import prints: the files read, each problem with its code, each change (dry run), and
a summary. Names are shown to the operator, never passwords."""

from __future__ import annotations

from pathlib import Path

from appliance.imports.run import Outcome


def lines(outcome: Outcome, per_record: bool) -> list[str]:
    a, plan = outcome.analysis, outcome.plan
    out = []
    for f in a.files:
        kind = f"AAF {f.dialect}" if f.kind == "aaf" else f"CSV {f.encoding}"
        out.append(f"file {Path(f.name).name}: {kind}, {'full' if f.full else 'delta'}, "
                   f"{f.records} record(s)")
    issues = [*a.issues, *plan.issues]
    for issue in issues:
        out.append(f"{'ERROR' if issue.blocking else 'note '} {issue}")
    if per_record:
        for c in plan.changes:
            t = c.target
            who = f"{t.last_name} {t.first_name}" if t else ""
            where = f"{Path(c.file).name}:{c.line}" if c.file else "(absent from a full file)"
            codes = ",".join((t.classes or ()) + (t.groups or ())) if t else ""
            extra = f" changed={','.join(c.changed)}" if c.changed else ""
            out.append(f"{c.action:10} {c.profile:10} {c.login or '-':20} {c.key:14} "
                       f"{who[:40]:40} {codes[:30]:30} {where}{extra}")
    counts = plan.count()
    blocking = sum(1 for i in issues if i.blocking)
    notes = len(issues) - blocking
    summary = ", ".join(f"{n} {action}" for action, n in counts.items())
    state = ("applied" if outcome.applied else
             "NOT applied (dry run)" if not blocking else "NOT applied: fix the errors above")
    out.append(f"import {outcome.import_id}: {summary}; {blocking} error(s), {notes} note(s); "
               f"{state}")
    if outcome.change_log:
        out.append(f"change log: {outcome.change_log}")
    return out
