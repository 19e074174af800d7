"""The one exception family of CARINE: every error a user can meet carries a message and a hint.

The CLI turns these into one message and an exit code; library code never calls sys.exit."""

from __future__ import annotations

from dataclasses import dataclass


class CarineError(Exception):
    """An error meant for a person: what went wrong, and what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a site file, located by its path (``zones[2].subnet``) and line."""

    path: str
    message: str
    hint: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "(top level)"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        text = f"{where}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class SiteInvalid(CarineError):
    """A site file that does not describe a valid school. Nothing is rendered from it."""

    exit_code = 2

    def __init__(self, source: str, problems: list[Problem]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{source}: {count} {noun} found",
            "fix every problem listed; nothing was rendered",
        )
        self.source = source
        self.problems = problems

    def report(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


class ToolFailed(CarineError):
    """An external program failed, or could not be started."""
