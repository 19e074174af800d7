"""WsgiDAV's view of our tree: each request path mapped through ``storage.tree`` for the user
the gate let in, items the user may not read hidden (404, and absent from listings), symlinks
never followed, uploads written beside their target and renamed in when complete."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.dav_provider import DAVCollection, DAVNonCollection
from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource

from storage import rights as acl
from storage.drops import ARCHIVE, HANDED, RETURNED
from storage.names import TEMP_PREFIX, BadName, segments
from storage.tree import HOME, Location, listing, resolve
from storage.users import User

BUFFER = 64 * 1024


def _memo(environ: dict[str, Any]) -> dict[Any, Any]:
    # WsgiDAV resolves the same paths several times per request (the gate, the resource, its
    # reference URL, locks): what one request learnt is kept for that request only, so a
    # change in the directory or the tree is seen by the next one.
    memo: dict[Any, Any] | None = environ.get("carine.memo")
    if memo is None:
        memo = environ["carine.memo"] = {}
    return memo


def where(environ: dict[str, Any], path: str) -> Location | None:
    memo = _memo(environ)
    key = ("where", path)
    if key in memo:
        return memo[key]  # type: ignore[no-any-return]
    user: User = environ["carine.user"]
    try:
        parts = segments(path)
    except BadName as exc:
        raise DAVError(HTTP_FORBIDDEN, str(exc)) from exc
    loc = memo[key] = resolve(environ["carine.root"], user, parts, environ["carine.boxes"])
    return loc


def held(environ: dict[str, Any], loc: Location) -> frozenset[str]:
    """The rights of the request's user on ``loc``."""
    user: User = environ["carine.user"]
    table: list[acl.Entry] = []
    if not (loc.virtual or loc.box):
        memo = _memo(environ)
        key = ("acl", loc.space, loc.share)
        if key not in memo:
            memo[key] = acl.entries(environ["carine.conn"], loc)
        table = memo[key]
    return acl.rights(user, loc, table, environ["carine.pupils_write"], environ["carine.now"]())


def _ref(environ: dict[str, Any], path: str, loc: Location) -> str | None:
    # Homes share the URL /perso for everyone: locks and properties are keyed by a URL that
    # names the owner, so one pupil's lock never blocks another's file.
    if loc.space == HOME:
        user: User = environ["carine.user"]
        return "/~" + user.login + "/" + "/".join(loc.rel)
    return None


class _Mapped:
    """What our files and folders share: a reference URL that names the home's owner."""

    path: str
    environ: dict[str, Any]
    is_collection: bool

    def get_ref_url(self) -> str:
        loc = where(self.environ, self.path)
        ref = _ref(self.environ, self.path, loc) if loc else None
        if ref is None:
            return str(DAVCollection.get_ref_url(self))
        if self.is_collection and not ref.endswith("/"):
            ref += "/"
        return str(util.quote(ref))


class File(_Mapped, FileResource):  # type: ignore[misc]
    """A file; ``pending`` while a PUT creates it (nothing on disk until it is complete)."""

    def __init__(self, path: str, environ: dict[str, Any], file_path: str,
                 pending: bool = False) -> None:
        if pending:
            DAVNonCollection.__init__(self, path, environ)  # no stat: nothing on disk yet
            self._file_path = file_path
            self.name = os.path.basename(file_path)
            self.file_stat: os.stat_result | None = None
        else:
            super().__init__(path, environ, file_path)
        self._temp: str | None = None

    def begin_write(self, *, content_type: str | None = None) -> BinaryIO:
        folder, name = os.path.split(self._file_path)
        self._temp = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(6)}-{name}"[:250])
        fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
        writer: Any = self.environ["carine.writer"](self, os.fdopen(fd, "wb", BUFFER))
        self._writer = writer
        return writer  # type: ignore[no-any-return]

    def end_write(self, *, with_errors: bool) -> None:
        temp, self._temp = self._temp, None
        if temp is None:
            return
        writer = self._writer
        ledger = self.environ["carine.ledger"]
        ledger.release(writer.owner, writer.written)
        try:
            if not with_errors:
                with_errors = not writer.finish()  # the antivirus has the last word
        except BaseException:
            with_errors = True
            self.environ["carine.refused"](self, sys.exc_info()[1])
            raise
        finally:
            if with_errors:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        if with_errors:
            return
        os.replace(temp, self._file_path)  # the old content or the new, never half of one
        stat = os.stat(self._file_path)
        self.file_stat = stat
        ledger.settle(Path(self._file_path), writer.owner, stat.st_size)

    def delete(self) -> None:
        super().delete()
        self.environ["carine.ledger"].forget(Path(self._file_path))

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        super().copy_move_single(dest_path, is_move=is_move)
        dest = Path(self.provider._loc_to_file_path(dest_path, self.environ))
        ledger = self.environ["carine.ledger"]
        if is_move:
            ledger.moved(Path(self._file_path), dest)
        else:
            ledger.settle(dest, self.environ["carine.user"].login, dest.stat().st_size)

    def move_recursive(self, dest_path: str) -> None:
        super().move_recursive(dest_path)
        self.environ["carine.ledger"].moved(
            Path(self._file_path), Path(self.provider._loc_to_file_path(dest_path, self.environ)))


class Folder(_Mapped, FolderResource):  # type: ignore[misc]
    def get_member_names(self) -> list[str]:
        names = [n for n in super().get_member_names() if not n.startswith(TEMP_PREFIX)]
        loc = where(self.environ, self.path)
        if loc is not None and loc.box is not None and not loc.rel:
            if loc.view == "teacher":
                names.append(ARCHIVE)
            elif loc.view == "handed" and RETURNED not in names and (
                    loc.box.folder(self.environ["carine.root"]) / RETURNED
                    / self.environ["carine.user"].login).is_dir():
                names.append(RETURNED)
        visible = []
        for name in names:
            loc = where(self.environ, util.join_uri(self.path, name))
            if loc is not None and acl.READ in held(self.environ, loc):
                visible.append(name)
        return visible

    def create_empty_resource(self, name: str) -> Any:
        path = util.join_uri(self.path, name)
        if self.environ.get("REQUEST_METHOD") == "PUT":
            fp = self.provider._loc_to_file_path(path, self.environ)
            return File(path, self.environ, fp, pending=True)
        return super().create_empty_resource(name)

    def delete(self) -> None:
        super().delete()
        self.environ["carine.ledger"].forget(Path(self._file_path))

    def move_recursive(self, dest_path: str) -> None:
        super().move_recursive(dest_path)
        self.environ["carine.ledger"].moved(
            Path(self._file_path), Path(self.provider._loc_to_file_path(dest_path, self.environ)))

    def get_used_bytes(self) -> int:
        ledger = self.environ["carine.ledger"]
        return int(ledger.used.get(self.environ["carine.user"].login, 0))

    def get_available_bytes(self) -> int:
        ledger = self.environ["carine.ledger"]
        return int(ledger.available(self.environ["carine.user"].login))


class Virtual(DAVCollection):  # type: ignore[misc]
    """The root, /classes and /groupes: folders made of the user's spaces and shares."""

    def __init__(self, path: str, environ: dict[str, Any], loc: Location) -> None:
        super().__init__(path, environ)
        self.loc = loc

    def get_member_names(self) -> list[str]:
        user: User = self.environ["carine.user"]
        return listing(user, self.loc.space, self.loc.share, self.environ["carine.boxes"])

    def get_display_name(self) -> str:
        return self.loc.space or "CARINE"


class Archive(DAVNonCollection):  # type: ignore[misc]
    """tout.zip: every pupil's handed-in files, ``<login>/<path>``, made when asked."""

    def __init__(self, path: str, environ: dict[str, Any], loc: Location) -> None:
        super().__init__(path, environ)
        assert loc.box is not None
        self.folder = loc.box.folder(environ["carine.root"]) / HANDED
        self._data: Any = None

    def _build(self) -> Any:
        if self._data is None:
            # Closed by WsgiDAV once sent (it closes what get_content returns).
            self._data = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
            with zipfile.ZipFile(self._data, "w", zipfile.ZIP_DEFLATED) as archive:
                if self.folder.is_dir():
                    for item in sorted(self.folder.rglob("*")):
                        if item.is_file() and not item.is_symlink() and \
                                not item.name.startswith(TEMP_PREFIX):
                            archive.write(item, str(item.relative_to(self.folder)))
        return self._data

    def get_content_length(self) -> int:
        data = self._build()
        return int(data.seek(0, os.SEEK_END))

    def get_content_type(self) -> str:
        return "application/zip"

    def get_content(self) -> Any:
        data = self._build()
        data.seek(0)
        return data

    def support_etag(self) -> bool:
        return False

    def get_etag(self) -> None:
        return None

    def support_ranges(self) -> bool:
        return False


class Provider(FilesystemProvider):  # type: ignore[misc]
    """Our tree over one folder on disk (``root``)."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root), fs_opts={"follow_symlinks": False})
        self.root = root

    def ref_url_to_path(self, ref_url: str) -> str:
        # The inverse of _Mapped.get_ref_url: a home's "/~login/x" is "/perso/x" to its owner.
        path = str(super().ref_url_to_path(ref_url))
        if path.startswith("/~"):
            rest = path[2:].partition("/")[2]
            return f"/{HOME}/{rest}"
        return path

    def _loc_to_file_path(self, path: str, environ: dict[str, Any] | None = None) -> str:
        assert environ is not None
        loc = where(environ, path)
        if loc is None or loc.disk is None:
            raise DAVError(HTTP_FORBIDDEN, "not a place for files")
        disk = loc.disk
        memo = _memo(environ)
        key = ("file", path)
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        # No component may be a symbolic link (one planted on disk must not lead out).
        probe = disk
        while probe != self.root and probe != probe.parent:
            if probe.is_symlink():
                raise DAVError(HTTP_FORBIDDEN, "symbolic links are not followed")
            probe = probe.parent
        memo[key] = str(disk)
        return str(disk)

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        self._count_get_resource_inst += 1
        loc = where(environ, path)
        if loc is None or acl.READ not in held(environ, loc):
            return None
        if loc.view == "archive":
            return Archive(path, environ, loc)
        if loc.virtual:
            return Virtual(path, environ, loc)
        assert loc.disk is not None
        if not loc.rel:  # a share's or home's folder exists as soon as someone looks
            loc.disk.mkdir(parents=True, exist_ok=True, mode=0o750)
            if loc.view == "teacher":
                for part in (HANDED, RETURNED):
                    (loc.disk / part).mkdir(exist_ok=True, mode=0o750)
        fp = self._loc_to_file_path(path, environ)
        if not os.path.lexists(fp) or os.path.islink(fp):
            return None
        if os.path.isdir(fp):
            return Folder(path, environ, fp)
        if not os.path.isfile(fp):
            return None
        return File(path, environ, fp)
