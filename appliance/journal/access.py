"""Reading the journal as the law wants it (D-LOG-2, APS-03): only a data controller may, and
every read, refused or not, becomes a ``read`` record (who, what question, how many records)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from appliance.journal import export, query, roles
from appliance.journal.store import Journal


def who_had(journal: Journal, operator: str, ip: str, at: datetime,
            port: int | None = None, reason: str | None = None) -> list[dict[str, Any]]:
    what = f"who had {ip}{f':{port}' if port else ''} at {at.isoformat()}"
    roles.require(journal, operator, what)
    found = query.who_had(journal.root, ip, at, port)
    journal.append("read", {"actor": operator, "query": what, "count": len(found),
                            "outcome": "answered", "reason": reason})
    return found


def connections(journal: Journal, operator: str, login: str, start: datetime, end: datetime,
                reason: str | None = None) -> list[dict[str, Any]]:
    """One person's connections over a period (the console's third search)."""
    what = f"connections of {login} from {start.isoformat()} to {end.isoformat()}"
    roles.require(journal, operator, what)
    found = query.connections_of(journal.root, login, start, end)
    journal.append("read", {"actor": operator, "query": what, "count": len(found),
                            "outcome": "answered", "reason": reason})
    return found


def visited(journal: Journal, operator: str, host: str, day: date,
            zone: str = "Europe/Paris", reason: str | None = None) -> list[dict[str, Any]]:
    what = f"who visited {host} on {day.isoformat()} ({zone})"
    roles.require(journal, operator, what)
    found = query.visited(journal.root, host, day, zone)
    journal.append("read", {"actor": operator, "query": what,
                            "count": sum(row["requests"] for row in found),
                            "outcome": "answered", "reason": reason})
    return found


def export_to(journal: Journal, operator: str, start: datetime, end: datetime, out: Path, *,
              ip: str | None = None, user: str | None = None, school: str = "",
              reason: str | None = None) -> tuple[int, str]:
    """Write the export zip to ``out``; returns (records, SHA-256 of the file)."""
    what = (f"export {'ip ' + ip if ip else 'user ' + str(user)} "
            f"from {start.isoformat()} to {end.isoformat()}")
    roles.require(journal, operator, what)
    data, count = export.build(journal.root, start, end, ip=ip, user=user, operator=operator,
                               school=school)
    digest = export.write(data, out)
    journal.append("read", {"actor": operator, "query": what, "count": count,
                            "outcome": "exported", "sha256": digest, "file": str(out),
                            "reason": reason})
    return count, digest
