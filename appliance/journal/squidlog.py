"""Navigation records from Squid's access log in CARINE's ``carine`` logformat (filtering/
squid.conf.j2): time, client, MAC, user, status, method, URL, SNI, server, bytes, category,
decision, profile, reason. Only the host is kept, never the path (CNIL: keep as little).
Intercepted HTTPS gets its login from the sessions and a status that says what happened."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from appliance.journal.segment import reverse_host

Row = tuple[int, str, tuple[object, ...]]
LoginAt = Callable[[str, int], str | None]  # (client IP, µs) -> the session's login
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


def status_of(status: str, method: str, server: str, sent: int, decision: str) -> str:
    """Squid's status, except where it misleads about intercepted HTTPS (CONNECT lines).

    Squid 5 logs a splice that carried the whole exchange as TCP_TUNNEL/500 (the tunnel has no
    HTTP reply of its own): bytes went both ways through a known server, so it is a tunnel that
    worked, TCP_TUNNEL/200. A connection the filter refused at the SNI (ssl_bump terminate) is
    logged NONE_NONE/000 with the helper's ``block``: it is a refusal, TCP_DENIED/403 (no HTTP
    answer is sent: the TLS connection is closed; 403 is what the refusal means)."""
    if method != "CONNECT":
        return status
    if status.startswith("TCP_TUNNEL/") and server not in ("-", "") and sent > 0:
        return "TCP_TUNNEL/200"
    if decision == "block" and status.endswith("/000"):
        return "TCP_DENIED/403"
    return status


def parse(line: str, login_at: LoginAt | None = None) -> Row | None:
    """One access-log line as (time µs, canonical body, index values); None if not ours.

    ``login_at`` names the session's user of a line Squid logged without one."""
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
    if login is None and login_at is not None:
        login = login_at(client, at)
    # Keys already in sorted order and known to be safe: the encoder need not sort or check
    # them (this is the ingestion hot path); the text is the same as canonical() gives.
    fields = {"bytes": sent, "category": _dash(category), "decision": _dash(decision),
              "host": host, "ip": client, "login": login, "mac": _dash(mac), "method": method,
              "profile": _dash(profile), "reason": _dash(reason), "server": _dash(server),
              "status": status_of(status, method, server, sent, decision)}
    return at, _ENCODE(fields), (client, login, reverse_host(host) if host else None,
                                 None, None)


def parse_lines(lines: Iterable[str], login_at: LoginAt | None = None
                ) -> tuple[list[Row], int]:
    """Parsed rows and the number of lines skipped (not in our format)."""
    rows: list[Row] = []
    skipped = 0
    for line in lines:
        row = parse(line, login_at)
        if row is None:
            skipped += line.strip() != ""
        else:
            rows.append(row)
    return rows, skipped
