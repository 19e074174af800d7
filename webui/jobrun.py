"""Runs one console job (webui/jobs.py) to its end: the command of job.json, its output into the
log (our own stdout), then result.json with the return code. Started detached from the console,
so that the console may restart meanwhile (an apply restarts its unit)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from appliance.errors import ToolFailed
from appliance.files import write_atomic
from appliance.run import child


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    write_atomic(folder / "pid", f"{os.getpid()}\n", 0o600)
    try:
        rc = child(job["argv"]).wait()
    except ToolFailed as exc:
        print(f"carine: {exc.message}", flush=True)
        rc = 127
    write_atomic(folder / "result.json", json.dumps(
        {"returncode": rc, "finished": datetime.now(UTC).isoformat()}) + "\n", 0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
