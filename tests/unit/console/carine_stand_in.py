"""Stands for `carine` in the console's unit tests: the real `carine apply` would install the
tree on this machine (its own tests boot a container: tests/system). Prints its arguments, a few
progress lines, then exits with the code of CARINE_STAND_IN_RC (0)."""

import os
import sys

print("carine", *sys.argv[1:], flush=True)
for step in ("validate", "render", "check", "apply"):
    print(f"TASK [{step}] ok", flush=True)
sys.exit(int(os.environ.get("CARINE_STAND_IN_RC", "0")))
