"""The directory's tables in the state store: structures, people, classes and groups, accounts,
registered devices and guest vouchers. Times are UTC epoch seconds (REAL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from appliance.state import connect, migrate

# Append-only: a new step for every change, never an edit of a shipped one.
STEPS = (
    """
    CREATE TABLE structures (
        uai TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL);
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        join_key TEXT UNIQUE,
        local_id TEXT UNIQUE,
        source TEXT NOT NULL CHECK (source IN ('aaf', 'csv', 'local')),
        uai TEXT,
        last_name TEXT NOT NULL,
        first_name TEXT NOT NULL,
        birth_date TEXT,
        email TEXT,
        profile TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deactivated')),
        deactivated_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        CHECK (join_key IS NOT NULL OR local_id IS NOT NULL));
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        uai TEXT NOT NULL DEFAULT '',
        code TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL CHECK (kind IN ('class', 'group')),
        UNIQUE (uai, code));
    CREATE TABLE memberships (
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        PRIMARY KEY (person_id, group_id));
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        person_id INTEGER UNIQUE REFERENCES people(id) ON DELETE CASCADE,
        login TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        nt_hash TEXT,
        must_change INTEGER NOT NULL DEFAULT 1,
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deactivated')),
        deactivated_at REAL,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL,
        charter_version TEXT,
        charter_at REAL,
        created_at REAL NOT NULL,
        password_changed_at REAL);
    CREATE TABLE logins_used (
        login TEXT PRIMARY KEY,
        released_at REAL);
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        mac TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL,
        profile TEXT NOT NULL,
        zone TEXT,
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deactivated')),
        created_at REAL NOT NULL,
        created_by TEXT NOT NULL);
    CREATE TABLE vouchers (
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        batch TEXT NOT NULL,
        profile TEXT NOT NULL,
        valid_minutes INTEGER NOT NULL,
        expires_at REAL NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        used_at REAL,
        used_mac TEXT,
        used_ip TEXT);
    CREATE INDEX people_profile ON people(profile, state);
    CREATE INDEX vouchers_batch ON vouchers(batch)
    """,
    # Imports: the AAF category a person came in (a full Eleve file deactivates pupils only),
    # and the structure's AAF join key (people refer to structures by it).
    """
    ALTER TABLE people ADD COLUMN category TEXT NOT NULL DEFAULT '';
    ALTER TABLE structures ADD COLUMN join_key TEXT;
    CREATE INDEX people_scope ON people(source, category, uai, state)
    """,
    """
    CREATE TABLE directory_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL)
    """,
    # Guest vouchers the head of school approves before they work (D-AUT-1): a batch with a
    # row here waits for the decision; batches without one (the CLI's) work at once.
    """
    CREATE TABLE voucher_approvals (
        batch TEXT PRIMARY KEY,
        asked_by TEXT NOT NULL,
        asked_at REAL NOT NULL,
        decided_by TEXT,
        decided_at REAL,
        approved INTEGER)
    """,
)


def prepare(conn: sqlite3.Connection) -> None:
    """Create or upgrade the directory's tables."""
    migrate(conn, "directory", STEPS)


def open_directory(path: Path) -> sqlite3.Connection:
    """The state store at ``path`` with the directory's tables ready."""
    conn = connect(path)
    prepare(conn)
    return conn
