"""Every daemon the services declare is watched: the exporter's list is the declared units'
daemons, and promtool shows CarineDaemonDown firing for each one left down (the real rules)."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from appliance.render import Layout, render_files
from appliance.run import run
from appliance.site import load_site
from tests.conftest import EXAMPLES, require_tool
from tests.daemon_alerts import write_test

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_carine_daemon_down_fires_for_every_declared_daemon(example: Path,
                                                            tmp_path: Path) -> None:
    site = load_site(example)
    files = render_files(site, Layout.system())
    watched = json.loads(files[PurePosixPath("etc/carine/monitoring.json")])["daemons"]
    units = json.loads(files[PurePosixPath("etc/carine/units.json")])
    assert watched == sorted(n.removeprefix("carine-").removesuffix(".service")
                             for n, u in units.items() if u["kind"] == "simple")
    path = write_test(tmp_path / "daemons.test.yml", watched, site.school.uai)
    result = run([require_tool("promtool"), "test", "rules", str(path)], check=False,
                 timeout=120)
    assert result.ok and "SUCCESS" in result.output(), result.output()
