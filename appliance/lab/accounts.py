"""The lab's directory: a pupil and a teacher with known initial passwords (written 0600 beside
the lab's state for the tests), made through the directory's own API, as an import makes them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from appliance.directory import accounts, people, schema
from appliance.lab.topology import LAB_ACCOUNTS
from appliance.sessions import store as sessions
from appliance.state import connect


def create_lab_accounts(store: Path, out: Path) -> dict[str, dict[str, str]]:
    """Create (or keep) the lab accounts; {login: {profile, password}} as written to ``out``."""
    conn = connect(store)
    schema.prepare(conn)
    sessions.prepare(conn)
    known: dict[str, dict[str, str]] = json.loads(out.read_text()) if out.exists() else {}
    now = time.time()
    for login, profile, first, last in LAB_ACCOUNTS:
        if accounts.find(conn, login) is not None and login in known:
            continue
        person = people.Person(join_key=None, local_id=f"lab-{login}", source="local",
                               last_name=last, first_name=first, profile=profile)
        person_id, _ = people.upsert(conn, person, now)
        password = f"Lab-{login}-2025"
        if accounts.find(conn, login) is None:
            accounts.create(conn, person_id, login, password, now)
        else:
            found = accounts.find(conn, login)
            assert found is not None
            accounts.set_password(conn, found.id, password, now, must_change=True)
        conn.commit()
        known[login] = {"profile": profile, "password": password}
    conn.close()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(known, handle, indent=2)
    return known
