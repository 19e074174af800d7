"""Navigation records from Squid's access log in CARINE's ``carine`` logformat (filtering/
squid.conf.j2): time, client, MAC, user, status, method, URL, SNI, server, bytes, category,
decision, profile, reason. Only the host is kept, never the path (CNIL: keep as little)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from appliance.journal.segment import reverse_host

Row = tuple[int, str, tuple[object, ...]]
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _dash(value: str) -> str | None:
    return None if value in ("-", "") else value


def host_of(method: str, url: str, sni: str) -> str | None:
    """The host asked for: the TLS SNI when there is one, else the URL's (CONNECT: host:port)."""
    if sni not in ("-", ""):
        return sni.lower()
    if method == "CONNECT" or "://" not in url:
        host = url.rsplit(":", 1)[0] if url.count(":") == 1 or url.startswith("[") else url
        return host.strip("[]").lower() or None
    return (urlsplit(url).hostname or "") or None


def parse(line: str) -> Row | None:
    """One access-log line as (time µs, canonical body, index values); None if not ours."""
    parts = line.split()
    if len(parts) != 14:
        return None
    stamp, client, mac, user, status, method, url, sni, server, size = parts[:10]
    category, decision, profile, reason = parts[10:]
    try:
        seconds, _, millis = stamp.partition(".")
        at = int(seconds) * 1_000_000 + int(millis or 0) * 1000
        sent = int(size)
    except ValueError:
        return None
    host = host_of(method, url, sni)
    login = _dash(user)
    # Keys already in sorted order and known to be safe: the encoder need not sort or check
    # them (this is the ingestion hot path); the text is the same as canonical() gives.
    fields = {"bytes": sent, "category": _dash(category), "decision": _dash(decision),
              "host": host, "ip": client, "login": login, "mac": _dash(mac), "method": method,
              "profile": _dash(profile), "reason": _dash(reason), "server": _dash(server),
              "status": status}
    return at, _ENCODE(fields), (client, login, reverse_host(host) if host else None,
                                 None, None)


def parse_lines(lines: Iterable[str]) -> tuple[list[Row], int]:
    """Parsed rows and the number of lines skipped (not in our format)."""
    rows: list[Row] = []
    skipped = 0
    for line in lines:
        row = parse(line)
        if row is None:
            skipped += line.strip() != ""
        else:
            rows.append(row)
    return rows, skipped
