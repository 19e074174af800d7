"""litmus (the WebDAV test suite, Debian package) against the real served share, over HTTPS,
with our authentication, rights and quotas in place: basic, copymove, props, locks and http
all pass, in a pupil's home and in a class share as its teacher."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.run import run
from tests.conftest import require_tool
from tests.storagekit import PASSWORD, make_config, serve

pytestmark = pytest.mark.contract
SUITES = "basic copymove props locks http"


def _litmus(url: str, login: str, cwd: Path) -> str:
    litmus = require_tool("litmus")
    # cwd: litmus leaves debug.log and child.log where it runs.
    done = run([litmus, "-k", url, login, PASSWORD], timeout=300, check=False,
               env={"TESTS": SUITES}, secrets=[PASSWORD], cwd=cwd)
    return done.stdout


@pytest.mark.parametrize(("login", "path"), [("eleve.un", "/perso/"),
                                             ("prof.un", "/classes/3A/")])
def test_litmus_passes_every_suite(tmp_path: Path, login: str, path: str) -> None:
    with serve(make_config(tmp_path)) as served:
        out = _litmus(served.url + path, login, tmp_path)
    summaries = re.findall(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, "
                           r"(\d+) failed", out)
    assert [s[0] for s in summaries] == SUITES.split(), out[-3000:]
    failed = {name: int(f) for name, _, _, f in summaries if int(f)}
    assert not failed, out[-3000:]
    passed = sum(int(p) for _, _, p, _ in summaries)
    print(f"litmus {login} {path}: {passed} passed")
    assert passed >= 103
