"""What the status page shows besides the session: the sites refused to this client lately
(D-FIL-5: an HTTPS block shows no page, so the portal says what was blocked and why)."""

from __future__ import annotations

import logging
import sqlite3

from appliance.clock import from_timestamp
from filtering import store, wording

log = logging.getLogger("carine.portal")
MAX_ROWS = 10


def recent_blocks(conn: sqlite3.Connection, client: str, now: float,
                  tz: str) -> list[dict[str, str]] | None:
    """Up to MAX_ROWS refusals of ``client`` (host, category label, reason, time in the
    school's zone ``tz``), or None when the store cannot say."""
    try:
        store.prepare(conn)
        rows = store.recent_blocks(conn, client, from_timestamp(now))
    except sqlite3.Error as exc:
        log.error("cannot read recent blocks: %s", exc)
        return None
    return [{"host": r.host, "category": wording.category_label(r.category) if r.category
             else "–", "why": wording.explain(r.reason, r.category, r.profile).short,
             "time": wording.french_time(r.at, tz)} for r in rows[:MAX_ROWS]]
