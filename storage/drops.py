"""Drop boxes (dépôt de devoirs, D-STO-2): a teacher opens one for a class with a deadline;
each pupil puts files and sees only their own (and, later, the corrected ones handed back to
them); the teacher sees every pupil's folder, collects all of them as one archive, and puts
corrected files in ``corriges/<login>/``. After the deadline pupils read only.

On disk: ``depots/<id>/remis/<login>/…`` and ``depots/<id>/corriges/<login>/…``. In the tree:
``/depots/<class>/<box>/`` (a pupil's own files; ``corriges/`` inside is what came back)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import CarineError
from appliance.state import migrate
from storage.names import check_segment

HANDED, RETURNED, ARCHIVE = "remis", "corriges", "tout.zip"
STEPS = ("""
    CREATE TABLE storage_drops (
        id INTEGER PRIMARY KEY,
        class TEXT NOT NULL,
        name TEXT NOT NULL,
        teacher TEXT NOT NULL,
        deadline REAL,
        created_at REAL NOT NULL,
        UNIQUE (class, name))
""",)


@dataclass(frozen=True)
class Box:
    id: int
    class_code: str
    name: str
    teacher: str
    deadline: float | None

    def open_at(self, now: float) -> bool:
        """Whether pupils may still hand in (before the deadline)."""
        return self.deadline is None or now < self.deadline

    def folder(self, root: Path) -> Path:
        return root / "depots" / str(self.id)


def prepare(conn: sqlite3.Connection) -> None:
    migrate(conn, "storage_drops", STEPS)


def open_box(conn: sqlite3.Connection, class_code: str, name: str, teacher: str,
             deadline: float | None, now: float,
             teacher_profile: str = "enseignant") -> Box:
    """Open a drop box; a teacher of the class only (``teacher_profile``: the site's), one
    name once per class."""
    name = check_segment(name)
    row = conn.execute(
        "SELECT 1 FROM accounts a JOIN memberships m ON m.person_id = a.person_id "
        "JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = a.person_id "
        "WHERE a.login = ? AND g.code = ? AND g.kind = 'class' AND p.profile = ?",
        (teacher, class_code, teacher_profile)).fetchone()
    if row is None:
        raise CarineError(f"{teacher} does not teach the class {class_code}",
                          "a drop box is opened by one of the class's teachers")
    try:
        with conn:
            cur = conn.execute("INSERT INTO storage_drops (class, name, teacher, deadline, "
                               "created_at) VALUES (?, ?, ?, ?, ?)",
                               (class_code, name, teacher, deadline, now))
    except sqlite3.IntegrityError:
        raise CarineError(f"the class {class_code} already has a drop box named {name!r}",
                          "choose another name") from None
    return Box(int(cur.lastrowid or 0), class_code, name, teacher, deadline)


def boxes(conn: sqlite3.Connection, class_code: str) -> dict[str, Box]:
    """The drop boxes of a class, by name."""
    return {r[2]: Box(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(
        "SELECT id, class, name, teacher, deadline FROM storage_drops WHERE class = ? "
        "ORDER BY name", (class_code,))}


def set_deadline(conn: sqlite3.Connection, class_code: str, name: str,
                 deadline: float | None) -> Box:
    """Give a box its deadline (None: none), e.g. one a teacher opened over WebDAV."""
    with conn:
        changed = conn.execute("UPDATE storage_drops SET deadline = ? WHERE class = ? AND "
                               "name = ?", (deadline, class_code, name)).rowcount
    if not changed:
        raise CarineError(f"the class {class_code} has no drop box named {name!r}",
                          f"carine storage depot list {class_code}")
    return boxes(conn, class_code)[name]
