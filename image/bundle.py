"""Make a signed update bundle (appliance.update.bundle) from a slot's files; used by build.sh.
Usage: bundle.py OUT VERSION KEY.pem ROOT.img VMLINUZ INITRD"""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.update.bundle import make

if __name__ == "__main__":
    out, version, key, root, kernel, initrd = sys.argv[1:7]
    make(Path(out), version, {"root.img": Path(root), "vmlinuz": Path(kernel),
                              "initrd.img": Path(initrd)}, Path(key).read_bytes())
    print(out)
