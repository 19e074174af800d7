"""Forwarding to the académie's or collectivité's collector over TLS syslog (RFC 5424 messages,
RFC 5425 octet-counted framing), D-LOG-5: the seal ledger and the head anchors of the open
days always, records of the chosen kinds. Positions are saved after each sent batch, so nothing
is skipped across restarts."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.files import write_atomic
from appliance.journal import anchor, ledger, segment
from appliance.journal.records import KINDS, from_micros

PRI = "<110>"  # facility 13 (log audit) * 8 + severity 6 (informational)


def frame(message: str) -> bytes:
    """RFC 5425: the message length in octets, a space, the message."""
    data = message.encode("utf-8")
    return f"{len(data)} ".encode() + data


def message(at: datetime, app: str, msgid: str, text: str) -> str:
    """An RFC 5424 line: PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG."""
    host = socket.gethostname() or "-"
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"{PRI}1 {stamp} {host} {app} - {msgid} - {text}"


class Forwarder:
    """Sends what the collector has not had yet, in order, over one TLS connection."""

    def __init__(self, root: Path, state: Path, settings: dict[str, Any], school: str) -> None:
        self.root, self.position_file = root, state / "forward.json"
        self.host, self.port = str(settings["host"]), int(settings["port"])
        self.kinds = list(settings.get("kinds", []))
        self.context = ssl.create_default_context(cafile=str(settings["ca_file"]))
        self.school = school
        self.sock: ssl.SSLSocket | None = None

    def _positions(self) -> dict[str, int]:
        try:
            value: dict[str, int] = json.loads(self.position_file.read_text(encoding="utf-8"))
            return value
        except (OSError, ValueError):
            return {}

    def _send(self, frames: list[bytes]) -> None:
        if self.sock is None:
            raw = socket.create_connection((self.host, self.port), timeout=10)
            self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        try:
            self.sock.sendall(b"".join(frames))
        except OSError:
            self.close()
            raise

    def forward_once(self, now: datetime | None = None) -> int:
        """Send new seal lines and new records (today and yesterday); returns how many."""
        now = now or datetime.now(UTC)
        positions = self._positions()
        sent = 0
        lines = ledger.read(self.root)
        done = positions.get("ledger", 0)
        if len(lines) > done:
            self._send([frame(message(now, "carine-journal", "seal", text))
                        for _, text, _ in lines[done:]])
            sent += len(lines) - done
            positions["ledger"] = len(lines)
            self._save(positions)
        sent += self._heads(now, positions)
        for kind in self.kinds:
            for day in (now.date() - timedelta(days=1), now.date()):
                path = segment.segment_path(self.root, kind, day)
                if not path.exists():
                    continue
                key = f"{kind}/{day.isoformat()}"
                conn = segment.connect(path, kind, day, create=False)
                try:
                    rows = conn.execute("SELECT seq, at, body, chain FROM records WHERE seq > ? "
                                        "ORDER BY seq LIMIT 5000",
                                        (positions.get(key, 0),)).fetchall()
                finally:
                    conn.close()
                if not rows:
                    continue
                self._send([frame(message(from_micros(at), "carine-journal", kind,
                                          f"{key}#{seq} {bytes(chain).hex()} {body}"))
                            for seq, at, body, chain in rows])
                positions[key] = rows[-1][0]
                sent += len(rows)
                self._save(positions)
        return sent

    def _heads(self, now: datetime, positions: dict[str, int]) -> int:
        """Each open day's new head anchor (``kind/day seq head hmac``): what the collector
        holds then shows a cut made at the end of a day before its seal."""
        frames = []
        for kind in KINDS:
            for day in (now.date() - timedelta(days=1), now.date()):
                path = segment.segment_path(self.root, kind, day)
                if not path.exists():
                    continue
                conn = segment.connect(path, kind, day, create=False)
                try:
                    row = conn.execute("SELECT value FROM meta WHERE key = ?",
                                       (anchor.META_KEY,)).fetchone()
                finally:
                    conn.close()
                key = f"head:{kind}/{day.isoformat()}"
                seq = int(row[0].split()[0]) if row else 0
                if seq > positions.get(key, 0):
                    frames.append(frame(message(now, "carine-journal", "head",
                                                f"{kind}/{day.isoformat()} {row[0]}")))
                    positions[key] = seq
        if frames:
            self._send(frames)
            self._save(positions)
        return len(frames)

    def _save(self, positions: dict[str, int]) -> None:
        write_atomic(self.position_file, json.dumps(positions, sort_keys=True) + "\n", 0o600)

    def close(self) -> None:
        if self.sock is not None:
            # A TLS close_notify first: without it the collector may drop the last frames.
            with contextlib.suppress(OSError, ValueError):
                self.sock.unwrap()
            self.sock.close()
            self.sock = None
