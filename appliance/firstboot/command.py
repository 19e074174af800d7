"""``carine firstboot``: wait for a valid site file, keep it on the data partition, create the
box's secrets, apply it once per root slot, then show the box's state on tty1.

A bad site file is shown with every problem exactly as ``carine validate`` prints it and nothing is
applied; the box keeps looking until the file changes. The apply is ``carine apply`` (one pipeline
for the image, a plain Debian server and the fleet); ``carine ready`` says when it serves."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import sys
import time
from importlib.metadata import version
from pathlib import Path

from appliance.files import write_atomic
from appliance.firstboot.screen import show, status
from appliance.firstboot.source import KEPT, find_site
from appliance.run import run
from appliance.site import parse_site

DONE = Path("/etc/carine/firstboot.done")  # on the root slot: a new slot applies again
CODE = Path("/var/lib/carine/secrets/firstboot-code")
CARINE = str(Path(sys.executable).with_name("carine"))
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen


def validate(text: str, scratch: Path) -> tuple[bool, str]:
    """``carine validate``'s verdict and its output, word for word (run in this process: a second
    interpreter costs a minute on a slow first boot)."""
    from appliance.cli import main  # the command line registers this module: load it late

    write_atomic(scratch, text, mode=0o600)
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = main(["validate", str(scratch)])
    return code == 0, said.getvalue().rstrip()


def one_time_code(path: Path = CODE) -> str:
    """The referent's one-time code for the console's first login, made once per box (0600)."""
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    code = "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(3))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, code + "\n", mode=0o600)
    return code


def has_command(name: str) -> bool:
    """Whether this ``carine`` has the command (``apply`` and ``ready`` land with issue 11)."""
    from appliance.cli import parser

    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return name in sub.choices


def apply(site: Path) -> tuple[bool, str]:
    """Apply the kept site file: ``carine apply``, then ``carine ready`` when they exist; until
    then the render-and-install path (render for this system, install, start carine.target)."""
    if has_command("apply"):
        out = run([CARINE, "apply", str(site)], check=False, timeout=3600)
        if out.returncode == 0 and has_command("ready"):
            out = run([CARINE, "ready"], check=False, timeout=900)
        return out.returncode == 0, (out.stdout + out.stderr).rstrip()
    tree = Path("/var/lib/carine/firstboot-tree")
    run(["rm", "-rf", str(tree)])
    steps = [[CARINE, "render", "--for-system", str(site), str(tree)],
             ["cp", "-a", "--no-preserve=ownership", f"{tree}/.", "/"],
             ["systemd-sysusers"], ["systemd-tmpfiles", "--create"],
             ["systemctl", "daemon-reload"],
             ["systemctl", "enable", "--now", "carine.target"]]
    for argv in steps:
        out = run(argv, check=False, timeout=900)
        if out.returncode != 0:
            return False, f"{' '.join(argv)}:\n{out.stdout}{out.stderr}".rstrip()
    return True, ""


def console_url(text: str) -> str | None:
    site = parse_site(text)
    managing = [z for z in site.zones if z.is_managing()]
    return f"https://{managing[0].gateway()}:8443/" if managing else None


def firstboot(poll: float, kept: Path = KEPT) -> int:
    me = version("carine")
    if DONE.exists() and kept.is_file():
        text = kept.read_text(encoding="utf-8")
        show(status(me, console_url(text), one_time_code()))
        return 0
    last_bad: str | None = None
    while True:
        found = find_site(kept)
        if found is None:
            show([f"CARINE {me} — premier démarrage",
                  "En attente du fichier de site : une clé USB (ou un disque) dont la partition",
                  "est étiquetée CARINE et porte site.yaml."])
        elif found.text != last_bad:
            ok, said = validate(found.text, kept.with_name(".site.candidate.yaml"))
            if ok:
                break
            last_bad = found.text
            show([f"CARINE {me} — le fichier de site {found.origin} est refusé :", "", said, "",
                  "Corrigez-le sur la clé CARINE : la box attend un fichier corrigé."])
        time.sleep(poll)
    write_atomic(kept, found.text, mode=0o600)
    kept.with_name(".site.candidate.yaml").unlink(missing_ok=True)
    show([f"CARINE {me} — fichier de site {found.origin} valide ; application en cours…"])
    started = time.monotonic()
    ok, said = apply(kept)
    if not ok:
        show([f"CARINE {me} — l'application a échoué (rien n'est appliqué à moitié) :", "", said])
        return 1
    write_atomic(DONE, f"applied in {time.monotonic() - started:.0f} s\n")
    show(status(me, console_url(found.text), one_time_code()))
    print(f"carine-firstboot: ready in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def _firstboot(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("carine firstboot runs as root (carine-firstboot.service)", file=sys.stderr)
        return 2
    return firstboot(args.poll)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("firstboot", help="the image's first boot (carine-firstboot.service)")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks for the site")
    p.set_defaults(func=_firstboot)
