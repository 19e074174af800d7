"""What first boot shows on the local screen (tty1) and on the console: waiting, every problem of
a bad site file exactly as ``carine validate`` prints it, then the box's state."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.run import run
from appliance.update.slots import failed_updates

TTY = Path("/dev/tty1")
CLEAR = "\033[2J\033[H"


def show(lines: Sequence[str], tty: Path = TTY) -> None:
    """Replace the local screen's content with ``lines``; echo them to the console (the journal)."""
    text = "\n".join(lines) + "\n"
    print(text, end="", flush=True)
    try:
        with tty.open("w", encoding="utf-8") as screen:
            screen.write(CLEAR + text.replace("\n", "\r\n"))
    except OSError:
        pass  # no local screen (a container, a test): the console copy is enough


def addresses() -> list[str]:
    """``ip -brief address`` without loopback: what the technician types in a browser."""
    out = run(["ip", "-brief", "address"], check=False).stdout
    return [line for line in out.splitlines() if line and not line.startswith("lo ")]


def services() -> list[str]:
    """Each carine-* unit and its state (``systemctl list-units``)."""
    out = run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager",
               "carine*"], check=False).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split(None, 4)
        if len(fields) >= 4:
            rows.append(f"  {fields[0]:40} {fields[2]}/{fields[3]}")
    return rows


def failed_units() -> list[str]:
    out = run(["systemctl", "--failed", "--plain", "--no-legend", "--no-pager"],
              check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def status(version: str, console_url: str | None, code: str | None) -> list[str]:
    """The screen of a box that applied its site."""
    lines = [f"CARINE {version}", "", "Adresses :"]
    lines += [f"  {a}" for a in addresses()] or ["  (aucune)"]
    lines += ["", "Services :"] + (services() or ["  (aucun)"])
    failed = failed_units()
    named = f" ({', '.join(failed)})" if failed else ""
    lines += ["", f"Unités en échec : {len(failed)}{named}"]
    for bad in failed_updates():
        lines += [f"Mise à jour annulée : la génération {bad.generation} (emplacement "
                  f"{bad.slot.upper()}) n'a pas démarré sainement ; retour à la précédente."]
    if console_url:
        lines += ["", f"Console : {console_url}"]
    if code:
        lines += [f"Code à usage unique pour la première connexion du référent : {code}"]
    return lines


