"""The five runtime files services hand their daemons (issue 11 item 6): one pydantic model each,
written and read through ``appliance.runtime``; a damaged file is refused whole with its path and
the problem, and each daemon given one stops at once and says so (never a traceback)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.errors import CarineError
from appliance.journal.config import load as load_journal
from appliance.render import render_tree
from appliance.render.layout import Layout
from appliance.run import run
from appliance.runtime import RuntimeFileError
from appliance.site import load_site
from filtering.config import FilterConfig
from monitoring import configfile
from network.portal.config import PortalConfig
from network.radius import backend
from network.radius.settings import Settings
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit

BIN = Path(sys.executable).parent
FILES = {"filtering": "carine/filtering.json", "portal": "carine/portal.json",
         "journal": "carine/journal.json", "monitoring": "carine/monitoring.json",
         "RADIUS": "carine/freeradius/carine.json"}
LOADERS: dict[str, Any] = {"filtering": FilterConfig.load, "portal": PortalConfig.load,
                           "journal": load_journal, "monitoring": configfile.load,
                           "RADIUS": Settings.load}
# Daemon, the file it is given, and the argv after it.
DAEMONS = (("carine-filter-helper", "filtering"), ("carine-blockpage", "filtering"),
           ("carine-portal", "portal"), ("carine-journald", "journal"),
           ("carine-exporter", "monitoring"), ("carine-prober", "monitoring"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    root = tmp_path_factory.mktemp("tree")
    layout = Layout.in_tree(root)
    render_tree(load_site(EXAMPLES / "site.yaml"), root, layout)
    return layout


def _damaged(tree: Layout, tmp_path: Path, what: str, change: str) -> Path:
    text = tree.etc(FILES[what]).read_text(encoding="utf-8")
    path = tmp_path / Path(FILES[what]).name
    if change == "truncated":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        return path
    doc = json.loads(text)
    first = next(iter(doc))
    if change == "missing":
        del doc[first]
    elif change == "unknown":
        doc["from_another_version"] = 1
    else:  # a mapping where the model wants a string, a path or a number
        doc[first] = {"not": "this"}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("what", FILES)
def test_rendered_files_read_back(tree: Layout, what: str) -> None:
    assert LOADERS[what](tree.etc(FILES[what])) is not None


def test_read_back_values(tree: Layout) -> None:
    portal = PortalConfig.load(tree.etc(FILES["portal"]))
    assert portal.port == 8090 and portal.limits_of("eleve") == (900, 36000)
    assert portal.zones[0].name == "guest" and portal.idle_set_of("eleve") == "portal_idle_15"
    filtering = FilterConfig.load(tree.etc(FILES["filtering"]))
    assert filtering.zone_of("10.30.0.57") is not None
    assert load_journal(tree.etc(FILES["journal"])).retention["nat"] == 365
    assert configfile.load(tree.etc(FILES["monitoring"])).probes.targets[0].name == "ent"
    assert Settings.load(tree.etc(FILES["RADIUS"])).vlans["eleve"] == 30


@pytest.mark.parametrize("change", ["truncated", "missing", "unknown", "wrong type"])
@pytest.mark.parametrize("what", FILES)
def test_damaged_files_are_refused_with_path_and_problem(tree: Layout, tmp_path: Path,
                                                         what: str, change: str) -> None:
    path = _damaged(tree, tmp_path, what, change)
    with pytest.raises(CarineError) as caught:
        LOADERS[what](path)
    message = caught.value.message
    assert f"the {what} configuration {path} is damaged: " in message
    expected = {"truncated": "Invalid JSON", "missing": "Field required",
                "unknown": "from_another_version: Extra inputs are not permitted",
                "wrong type": "valid"}[change]
    assert expected in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFileError, match=r"cannot read the portal configuration .*nope"):
        PortalConfig.load(tmp_path / "nope.json")


@pytest.mark.parametrize(("daemon", "what"), DAEMONS)
def test_daemons_stop_on_a_damaged_file(tree: Layout, tmp_path: Path, daemon: str,
                                        what: str) -> None:
    path = _damaged(tree, tmp_path, what, "missing")
    done = run([str(BIN / daemon), "--config", str(path)], check=False, timeout=60,
               input_text="")
    assert done.returncode != 0
    assert f"configuration {path} is damaged: " in done.stderr and "Field required" in \
        done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_freeradius_module_refuses_a_damaged_file(tree: Layout, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = _damaged(tree, tmp_path, "RADIUS", "wrong type")
    said: list[str] = []
    fake = SimpleNamespace(config={"settings": str(path)}, L_ERR=4, L_INFO=3,
                           radlog=lambda level, text: said.append(text))
    monkeypatch.setattr(backend, "radiusd", fake)
    assert backend.instantiate(None) == -1  # FreeRADIUS does not start
    assert any(f"the RADIUS configuration {path} is damaged" in line for line in said), said
