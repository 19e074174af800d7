"""The tree each user sees, made from the directory: their home, their classes' and groups'
shares, the staff share, the administration share (never shown to pupils), drop boxes; and
where each item lies on disk. Rights are decided in ``storage.rights``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.drops import ARCHIVE, HANDED, RETURNED, Box
from storage.users import PUPIL, STAFF, TEACHER, User

HOME, CLASSES, GROUPS, STAFF_SHARE, ADMIN, DROPS = (
    "perso", "classes", "groupes", "personnels", "administration", "depots")
SPACES = (HOME, CLASSES, GROUPS, STAFF_SHARE, ADMIN, DROPS)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def disk_name(code: str) -> str:
    """A folder name for a class or group code: the code when it is plain, else a digest."""
    if _SAFE.match(code):
        return code
    return "g-" + hashlib.sha256(code.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Location:
    """Where a request path points: a space, a share in it, the path inside the share."""

    space: str | None
    share: str | None
    rel: tuple[str, ...]
    disk: Path | None
    """None for the virtual folders (the root, /classes, /groupes, /depots/<class>)."""
    box: Box | None = None
    view: str = ""
    """In a drop box: ``handed`` (a pupil's own files), ``returned`` (what came back to
    them), ``teacher`` (the whole box), ``archive`` (the teacher's one download)."""

    @property
    def virtual(self) -> bool:
        return self.disk is None


def spaces_of(user: User) -> list[str]:
    """The top-level folders ``user`` sees."""
    if user.category == PUPIL:
        return [HOME, CLASSES, GROUPS, DROPS]
    if user.category == TEACHER:
        return [HOME, CLASSES, GROUPS, STAFF_SHARE, DROPS]
    return [HOME, CLASSES, GROUPS, STAFF_SHARE, ADMIN]


def share_root(root: Path, space: str, share: str | None, login: str) -> Path:
    if space == HOME:
        return root / "homes" / login
    if space in (CLASSES, GROUPS):
        assert share is not None
        return root / space / disk_name(share)
    return root / space


Boxes = Callable[[str], dict[str, Box]]


def resolve(root: Path, user: User, parts: list[str],
            boxes: Boxes = lambda code: {}) -> Location | None:
    """The location of ``parts`` for ``user``, or None when it is not in their tree."""
    if not parts:
        return Location(None, None, (), None)
    space, rest = parts[0], parts[1:]
    if space not in spaces_of(user):
        return None
    if space in (CLASSES, GROUPS):
        if not rest:
            return Location(space, None, (), None)
        code = rest[0]
        if not user.member_of("class" if space == CLASSES else "group", code):
            return None
        base = share_root(root, space, code, user.login)
        return Location(space, code, tuple(rest[1:]), base.joinpath(*rest[1:]))
    if space == DROPS:
        return _drop(root, user, rest, boxes)
    base = share_root(root, space, None, user.login)
    return Location(space, None, tuple(rest), base.joinpath(*rest))


def _drop(root: Path, user: User, rest: list[str], boxes: Boxes) -> Location | None:
    if not rest:
        return Location(DROPS, None, (), None)
    code = rest[0]
    if not user.member_of("class", code):
        return None
    if len(rest) == 1:
        return Location(DROPS, code, (), None)
    box = boxes(code).get(rest[1])
    if box is None:
        return None
    more, folder = tuple(rest[2:]), box.folder(root)
    if user.category == PUPIL:
        if more[:1] == (RETURNED,):
            return Location(DROPS, code, more[1:], folder.joinpath(RETURNED, user.login,
                                                                   *more[1:]), box, "returned")
        return Location(DROPS, code, more, folder.joinpath(HANDED, user.login, *more), box,
                        "handed")
    if more == (ARCHIVE,):
        return Location(DROPS, code, more, None, box, "archive")
    return Location(DROPS, code, more, folder.joinpath(*more), box, "teacher")


def listing(user: User, space: str | None, share: str | None = None,
            boxes: Boxes = lambda code: {}) -> list[str]:
    """Names inside a virtual folder: the spaces, the user's classes or groups, the drop
    boxes of a class."""
    if space is None:
        return spaces_of(user)
    if space == DROPS:
        return sorted(boxes(share)) if share else sorted(user.classes)
    if space == CLASSES:
        return sorted(user.classes)
    if space == GROUPS:
        return sorted(user.groups)
    return []


__all__ = ["ADMIN", "CLASSES", "DROPS", "GROUPS", "HOME", "SPACES", "STAFF", "STAFF_SHARE",
           "TEACHER", "Location", "disk_name", "listing", "resolve", "share_root", "spaces_of"]
