#!/usr/bin/python3
"""Ansible module: install a rendered tree in one call. Each file whose content or mode differs
is written beside its target, checked by its tool (``validate``, ``%s`` = the new file) and only
then renamed over the old one; returns the paths that changed. One SSH round trip per apply
instead of two per file (46 files took 42 s with a copy loop)."""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import tempfile
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = """
module: carine_files
short_description: install CARINE's rendered files, each validated before it replaces the old
options:
  files: {type: list, elements: dict, required: true}
  root: {type: str, default: /}
"""


def _current(path: Path) -> tuple[str, int] | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def main() -> None:
    module = AnsibleModule(argument_spec={"files": {"type": "list", "elements": "dict",
                                                    "required": True},
                                          "root": {"type": "str", "default": "/"}},
                           supports_check_mode=True)
    changed: list[str] = []
    for item in module.params["files"]:
        path = Path(module.params["root"]) / item["path"]
        data = base64.b64decode(item["content"])
        mode = int(str(item.get("mode", "0644")), 8)
        if _current(path) == (hashlib.sha256(data).hexdigest(), mode):
            continue
        changed.append(item["path"])
        if module.check_mode:
            continue
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        tmp = Path(name)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if item.get("validate"):
                argv = [a.replace("%s", name) for a in shlex.split(item["validate"])]
                rc, out_text, err = module.run_command(argv)
                if rc != 0:
                    module.fail_json(msg=f"{item['validate']} refused /{item['path']}: "
                                     f"{(out_text + err).strip()[-1500:]}", changed_paths=changed)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    module.exit_json(changed=bool(changed), changed_paths=changed)


if __name__ == "__main__":
    main()
