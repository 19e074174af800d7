"""Radio states and their history in the appliance's state store (``wifi_radio`` and
``wifi_radio_events``): every change with who or what made it, and whether it reached the AP."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from appliance.state import migrate
from network.wifi.radio import RadioState

STEPS = (
    """CREATE TABLE wifi_radio (
         ap TEXT PRIMARY KEY, radio_on INTEGER NOT NULL, reason TEXT NOT NULL,
         by TEXT NOT NULL, since TEXT NOT NULL, until TEXT, last_activity TEXT);
       CREATE TABLE wifi_radio_events (
         id INTEGER PRIMARY KEY, at TEXT NOT NULL, ap TEXT NOT NULL, room TEXT NOT NULL,
         radio_on INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, until TEXT,
         applied INTEGER NOT NULL, error TEXT);
       CREATE INDEX wifi_radio_events_ap ON wifi_radio_events (ap, at)""",
)


def open_store(conn: sqlite3.Connection) -> sqlite3.Connection:
    migrate(conn, "wifi", STEPS)
    return conn


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def load(conn: sqlite3.Connection, ap: str) -> RadioState | None:
    row = conn.execute("SELECT * FROM wifi_radio WHERE ap = ?", (ap,)).fetchone()
    if row is None:
        return None
    since = _time(row["since"])
    assert since is not None
    return RadioState(row["ap"], bool(row["radio_on"]), row["reason"], row["by"], since,
                      _time(row["until"]), _time(row["last_activity"]))


def load_all(conn: sqlite3.Connection) -> dict[str, RadioState]:
    names = [row[0] for row in conn.execute("SELECT ap FROM wifi_radio ORDER BY ap")]
    return {name: state for name in names if (state := load(conn, name)) is not None}


def save(conn: sqlite3.Connection, state: RadioState, room: str, applied: bool,
         error: str | None) -> None:
    """Record ``state`` as the AP's current one, and the change in the history."""
    with conn:
        conn.execute(
            "INSERT INTO wifi_radio (ap, radio_on, reason, by, since, until, last_activity) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ap) DO UPDATE SET "
            "radio_on = excluded.radio_on, reason = excluded.reason, by = excluded.by, "
            "since = excluded.since, until = excluded.until, "
            "last_activity = excluded.last_activity",
            (state.ap, int(state.on), state.reason, state.by, _text(state.since),
             _text(state.until), _text(state.last_activity)))
        conn.execute(
            "INSERT INTO wifi_radio_events (at, ap, room, radio_on, reason, by, until, applied, "
            "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_text(state.since), state.ap, room, int(state.on), state.reason, state.by,
             _text(state.until), int(applied), error))


def touch(conn: sqlite3.Connection, ap: str, seen: datetime) -> None:
    """A device was connected to ``ap`` at ``seen`` (not a change: no history row)."""
    with conn:
        conn.execute("UPDATE wifi_radio SET last_activity = ? WHERE ap = ?", (_text(seen), ap))


def history(conn: sqlite3.Connection, ap: str | None = None,
            limit: int = 50) -> list[sqlite3.Row]:
    """The latest changes, newest first."""
    if ap is None:
        return conn.execute("SELECT * FROM wifi_radio_events ORDER BY id DESC LIMIT ?",
                            (limit,)).fetchall()
    return conn.execute("SELECT * FROM wifi_radio_events WHERE ap = ? ORDER BY id DESC LIMIT ?",
                        (ap, limit)).fetchall()
