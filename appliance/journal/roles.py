"""Who may read the journal: the data controllers named in ``roles.json`` (0600, beside the
segments). Every grant and revocation is itself an ``admin`` record of the journal."""

from __future__ import annotations

import json
import re
from pathlib import Path

from appliance.files import write_atomic
from appliance.journal.records import JournalError
from appliance.journal.store import Journal

ROLES = "roles.json"
ROLE = "data-controller"
_OPERATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def controllers(root: Path) -> list[str]:
    path = root / ROLES
    if not path.exists():
        return []
    try:
        names = json.loads(path.read_text(encoding="utf-8")).get(ROLE, [])
    except (ValueError, AttributeError) as exc:
        raise JournalError(f"{path} is damaged: {exc}", "re-grant the roles") from exc
    return sorted(str(name) for name in names)


def _check_name(operator: str) -> str:
    if not _OPERATOR.match(operator):
        raise JournalError(f"{operator!r} is not an operator name",
                           "letters, digits, '.', '_', '@' or '-', at most 64")
    return operator


def _save(root: Path, names: list[str]) -> None:
    write_atomic(root / ROLES, json.dumps({ROLE: sorted(set(names))}, indent=2) + "\n", 0o600)


def grant(journal: Journal, operator: str, actor: str) -> None:
    names = controllers(journal.root)
    _save(journal.root, [*names, _check_name(operator)])
    journal.append("admin", {"actor": actor, "action": "journal.grant", "target": operator,
                             "role": ROLE})


def revoke(journal: Journal, operator: str, actor: str) -> None:
    names = controllers(journal.root)
    if operator not in names:
        raise JournalError(f"{operator} does not hold the {ROLE} role")
    _save(journal.root, [name for name in names if name != operator])
    journal.append("admin", {"actor": actor, "action": "journal.revoke", "target": operator,
                             "role": ROLE})


def require(journal: Journal, operator: str, what: str) -> None:
    """Refuse (and journal the refusal) unless ``operator`` is a data controller."""
    if _check_name(operator) not in controllers(journal.root):
        journal.append("read", {"actor": operator, "query": what, "count": None,
                                "outcome": "refused"})
        raise JournalError(f"{operator} does not hold the {ROLE} role: reading refused",
                           f"the head of school grants it: carine journal grant {operator}")
