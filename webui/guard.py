"""Who reaches which page: every console view names the roles that may see it (any one is
enough, D-AUT-6); each view carries its roles so that a test can try every route with every role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, redirect, render_template, request, session
from flask_babel import gettext as _

from webui.roles import Role

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """The signed-in console user of this request."""

    id: int
    login: str
    name: str
    roles: frozenset[Role]

    def has(self, *wanted: Role) -> bool:
        return not wanted or bool(self.roles & set(wanted))


def current() -> User | None:
    held = session.get("user")
    if not isinstance(held, dict):
        return None
    try:
        return User(int(held["id"]), str(held["login"]), str(held["name"]),
                    frozenset(Role(r) for r in held["roles"]))
    except (KeyError, ValueError, TypeError):
        return None


def needs(*wanted: Role) -> Callable[[F], F]:
    """The view is for holders of any of ``wanted`` (none: every console user)."""
    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current()
            if user is None:
                return redirect("/connexion?suite=" + request.path, 303)
            if not user.has(*wanted):
                current_app.extensions["carine_console"].audit(
                    user.login, "console.refused", target=request.path)
                return render_template("console/message.html", title=_("Accès refusé"),
                                       text=_("Votre rôle ne donne pas accès à cette page."),
                                       user=user), 403
            return view(*args, **kwargs)
        cast(Any, checked).carine_roles = frozenset(wanted)  # read by the authorisation test
        return cast(F, checked)
    return decorate
