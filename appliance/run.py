"""The one way CARINE starts other programs: argv lists, a timeout, secrets masked in logs.

Every call to nft, dnsmasq, squid, ip… goes through ``run`` or ``spawn``; ruff bans the rest."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ToolFailed

log = logging.getLogger("carine.run")


@dataclass(frozen=True)
class Result:
    """What a finished program said."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self) -> str:
        """stdout and stderr together, trimmed, for reports."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


def _shown(argv: Sequence[str], secrets: Sequence[str]) -> str:
    text = " ".join(argv)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "******")
    return text


def run(
    argv: Sequence[str],
    *,
    timeout: float = 60.0,
    check: bool = True,
    input_text: str | None = None,
    secrets: Sequence[str] = (),
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Result:
    """Run ``argv`` to completion; raise ``ToolFailed`` on failure when ``check``."""
    shown = _shown(argv, secrets)
    log.debug("run: %s", shown)
    try:
        proc = subprocess.run(
            # errors="replace": a tool that prints raw bytes (litmus echoes the odd URLs it
            # tries) must not turn its answer into a UnicodeDecodeError.
            list(argv), capture_output=True, text=True, errors="replace", timeout=timeout,
            input=input_text,
            env=None if env is None else {**os.environ, **env}, cwd=cwd, check=False,
        )
    except FileNotFoundError as exc:
        raise ToolFailed(f"{argv[0]} is not installed", "run `make install`") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"`{shown}` did not finish within {timeout:.0f}s") from exc
    result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        detail = _shown([result.output()], secrets)[-2000:]
        raise ToolFailed(f"`{shown}` failed with exit code {proc.returncode}: {detail}")
    return result


def spawn(argv: Sequence[str], *, logfile: Path, env: dict[str, str] | None = None) -> int:
    """Start a long-running program detached from us (own session), output to ``logfile``.

    Returns its PID; the caller records it and stops it by that PID, never by name."""
    log.debug("spawn: %s", " ".join(argv))
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("ab") as out:
        try:
            proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env=None if env is None else {**os.environ, **env},
            )
        except FileNotFoundError as exc:
            raise ToolFailed(f"{argv[0]} is not installed", "run `make install`") from exc
    return proc.pid


Child = subprocess.Popen[bytes]


def child(argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
    """Start ``argv`` as our child, sharing our output (a supervisor waits on it and restarts
    it; the lab's supervisor is the only user)."""
    log.debug("child: %s", " ".join(argv))
    try:
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL,
                                env=None if env is None else {**os.environ, **env})
    except FileNotFoundError as exc:
        raise ToolFailed(f"{argv[0]} is not installed", "run `make install`") from exc
