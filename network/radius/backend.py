"""The module FreeRADIUS's rlm_python3 loads (mods-enabled/carine): thin functions that turn its
attribute lists into a Request, ask the Decider or Accounting, and turn the Answer back.

Runs inside freeradius with Debian's Python 3.11 and the venv's site-packages on python_path.
Any error is logged and answered "fail": FreeRADIUS then rejects, never accepts by accident."""

from __future__ import annotations

import sys


def _venv_first() -> None:
    """Inside FreeRADIUS, Debian's dist-packages come before python_path: its older compiled
    modules (_cffi_backend) would shadow the venv's. Our site-packages go first."""
    ours = [p for p in sys.path if p.endswith("/site-packages")]
    sys.path[:] = ours + [p for p in sys.path if p not in ours]


_venv_first()

import logging  # noqa: E402 - after the path fix above
from typing import Any  # noqa: E402

from appliance.errors import CarineError  # noqa: E402
from network.radius.accounting import Accounting  # noqa: E402
from network.radius.context import Context  # noqa: E402
from network.radius.decide import Answer, Decider  # noqa: E402
from network.radius.request import Request  # noqa: E402
from network.radius.settings import Settings  # noqa: E402

try:  # only inside FreeRADIUS; unit tests drive the Decider directly
    import radiusd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - outside FreeRADIUS
    radiusd = None

log = logging.getLogger("carine.radius")
_state: dict[str, Any] = {}


class _RadLog(logging.Handler):
    """Our log lines go to FreeRADIUS's own log."""

    def emit(self, record: logging.LogRecord) -> None:
        if radiusd is not None:
            level = radiusd.L_ERR if record.levelno >= logging.ERROR else radiusd.L_INFO
            radiusd.radlog(level, f"carine: {record.getMessage()}")


def _code(name: str) -> int:
    return int(getattr(radiusd, f"RLM_MODULE_{name.upper()}"))


def _answer(answer: Answer) -> Any:
    update = {}
    if answer.reply:
        update["reply"] = tuple((name, ":=", value) if name != "Class" else (name, "+=", value)
                                for name, value in answer.reply)
    if answer.config:
        update["config"] = tuple((name, ":=", value) for name, value in answer.config)
    return (_code(answer.code), update) if update else _code(answer.code)


def _guard(step: str, p: Any, call: Any) -> Any:
    try:
        return _answer(call(Request(p)))
    except Exception:
        log.exception("%s failed", step)
        return _code("fail")


def instantiate(p: Any) -> int:
    if not log.handlers:
        log.addHandler(_RadLog())
        log.setLevel(logging.INFO)
    path = radiusd.config.get("settings") if radiusd is not None else None
    if not path:
        log.error("mods-enabled/carine gives no settings file")
        return -1
    try:
        settings = Settings.load(__import__("pathlib").Path(path))
    except CarineError as exc:  # a damaged carine.json: FreeRADIUS does not start, and says why
        log.error("%s (hint: %s)", exc.message, exc.hint)
        return -1
    ctx = Context(settings)
    _state.update(ctx=ctx, decider=Decider(ctx), accounting=Accounting(ctx))
    return 0


def authorize(p: Any) -> Any:
    return _guard("authorize", p, _state["decider"].authorize)


def authenticate(p: Any) -> Any:
    return _guard("authenticate", p, _state["decider"].authenticate)


def post_auth(p: Any) -> Any:
    return _guard("post-auth", p, _state["decider"].post_auth)


def accounting(p: Any) -> Any:
    def handle(req: Request) -> Answer:
        outcome = _state["accounting"].handle(req)
        log.info("accounting %s", outcome)
        return Answer("ok")

    return _guard("accounting", p, handle)


def detach(p: Any = None) -> int:
    ctx = _state.get("ctx")
    if ctx is not None:
        ctx.close()
    return 0
