"""The gate between authentication and WsgiDAV's request handling: who the user is (read from
the directory at every request), and whether the method is allowed on the path (and on the
Destination of COPY and MOVE) by the user's rights. Refusals are counted for the metrics."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlparse

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_NOT_FOUND, DAVError
from wsgidav.mw.base_mw import BaseMiddleware

from appliance.errors import CarineError
from storage import drops
from storage import rights as acl
from storage.names import BadName, check_segment, segments
from storage.provider import held, where
from storage.tree import DROPS
from storage.users import TEACHER, User

log = logging.getLogger("carine.storage")
READS = {"GET", "HEAD", "PROPFIND", "OPTIONS"}
StartResponse = Callable[..., Any]


class Counters:
    """Refusals by reason, for carine_storage_refusals_total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.refusals: dict[str, int] = {}

    def add(self, reason: str) -> None:
        with self._lock:
            self.refusals[reason] = self.refusals.get(reason, 0) + 1


def _need(method: str, path: str, environ: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, right) pairs the method needs; a right on a missing item is asked of its parent."""
    parent = util.get_uri_parent(path.rstrip("/")) or "/"
    exists = environ["carine.exists"]
    if method in READS:
        return [(path, acl.READ)]
    if method in ("PUT", "LOCK", "PROPPATCH"):
        return [(path, acl.MODIFY)] if exists(path) else [(parent, acl.MODIFY)]
    if method == "UNLOCK":
        return [(path, acl.READ)]
    if method == "MKCOL":
        return [(parent, acl.MODIFY)]
    if method == "DELETE":
        return [(path, acl.DELETE)]
    if method in ("COPY", "MOVE"):
        dest = _destination(environ)
        dparent = util.get_uri_parent(dest.rstrip("/")) or "/"
        need = [(path, acl.DELETE if method == "MOVE" else acl.READ), (dparent, acl.MODIFY)]
        if exists(dest):
            need.append((dest, acl.DELETE))
        return need
    return [(path, acl.MODIFY)]


def _destination(environ: dict[str, Any]) -> str:
    raw = environ.get("HTTP_DESTINATION", "")
    return unquote(urlparse(raw).path) or "/"


def _creates(method: str, path: str, environ: dict[str, Any]) -> str | None:
    if method in ("PUT", "MKCOL", "LOCK"):
        return path
    if method in ("COPY", "MOVE"):
        return _destination(environ)
    return None


class Gate(BaseMiddleware):  # type: ignore[misc]
    def __init__(self, wsgidav_app: Any, next_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        self.carine: dict[str, Any] = config["carine"]

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        c = self.carine
        login = environ.get("wsgidav.auth.user_name") or ""
        user = c["directory"].user(login) if login else None
        counters: Counters = c["counters"]
        if user is None or not user.active:
            counters.add("deactivated")
            return self._refuse(environ, start_response, HTTP_FORBIDDEN,
                                "Compte désactivé / account deactivated")
        environ.update({"carine.user": user, "carine.root": c["root"],
                        "carine.conn": c["directory"].conn(),
                        "carine.pupils_write": c["pupils_write"],
                        "carine.boxes": c["boxes"], "carine.now": c["now"],
                        "carine.writer": c["writer"](environ),
                        "carine.exists": lambda p: c["provider"].get_resource_inst(
                            p, environ) is not None})
        method = environ["REQUEST_METHOD"].upper()
        path = environ["PATH_INFO"]
        if method == "MKCOL":
            opened = self._open_box(environ, start_response, user, path)
            if opened is not None:
                return opened
        try:
            created = _creates(method, path, environ)
            if created is not None:
                last = [p for p in created.split("/") if p]
                if last:
                    check_segment(last[-1])
            for where_, right in _need(method, path, environ):
                loc = where(environ, where_)
                have = held(environ, loc) if loc is not None else acl.NONE
                if right not in have:
                    counters.add("rights")
                    status = HTTP_NOT_FOUND if acl.READ not in have else HTTP_FORBIDDEN
                    return self._refuse(environ, start_response, status,
                                        "Droits insuffisants / not allowed")
        except BadName as exc:
            counters.add("name")
            return self._refuse(environ, start_response, HTTP_FORBIDDEN,
                                f"Nom refusé / name refused: {exc}")
        except DAVError as exc:
            counters.add("name")
            return self._refuse(environ, start_response, exc.value, str(exc.context_info))
        return self.next_app(environ, start_response)  # type: ignore[no-any-return]

    def _open_box(self, environ: dict[str, Any], start_response: StartResponse, user: User,
                  path: str) -> Iterable[bytes] | None:
        """A teacher's MKCOL of /depots/<class>/<name> opens a drop box for that class of
        theirs (no deadline: ``carine storage depot until`` sets one); None: not that."""
        try:
            parts = segments(path)
        except BadName:
            return None
        c = self.carine
        if len(parts) != 3 or parts[0] != DROPS or user.category != TEACHER or \
                not user.member_of("class", parts[1]) or parts[2] in c["boxes"](parts[1]):
            return None
        teacher = next((p for p, cat in c["directory"].profiles.items() if cat == TEACHER),
                       "enseignant")
        try:
            box = drops.open_box(c["directory"].conn(), parts[1], parts[2], user.login, None,
                                 c["now"](), teacher)
        except (CarineError, BadName) as exc:
            c["counters"].add("name" if isinstance(exc, BadName) else "rights")
            return self._refuse(environ, start_response, HTTP_FORBIDDEN,
                                f"Dépôt refusé / drop box refused: {exc}")
        log.info("drop box %s/%s opened by %s", box.class_code, box.name, user.login)
        util.read_and_discard_input(environ)
        start_response(util.get_http_status_string(201),
                       [("Content-Length", "0"), ("Content-Type", "text/html")])
        return [b""]

    @staticmethod
    def _refuse(environ: dict[str, Any], start_response: StartResponse, status: int,
                text: str) -> Iterable[bytes]:
        # Drain the body so that a keep-alive connection stays usable.
        util.read_and_discard_input(environ)
        body = (text + "\n").encode("utf-8")
        start_response(util.get_http_status_string(status),
                       [("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body)))])
        return [body]
