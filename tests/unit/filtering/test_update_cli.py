"""``carine filter update|generations`` as a technician (or cron) meets them: what they print,
exit codes 0 / 2 (refused, the current lists stay) / 1, and the DNS views following the lists."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.cli import main
from appliance.render.layout import Layout
from appliance.site import load_site
from filtering import dnsstate
from filtering.config import FilterConfig, render_config
from filtering.decide import Decider
from filtering.dns import BLOCKED_SERVERS
from filtering.generations import Store
from filtering.index import Index
from filtering.rollback import rollback
from filtering.update import Options, update
from tests.conftest import EXAMPLES
from tests.unit.filtering.listgen import ut1_archive

pytestmark = pytest.mark.unit


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "state" / "filtering" / "index.cidx"


def archive(tmp_path: Path, counts: dict[str, int], salt: str) -> str:
    return str(ut1_archive(tmp_path / f"src-{salt}", counts, salt))


def test_update_refusal_rollback_and_generations(tmp_path: Path, index: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "update", "--source", archive(tmp_path, {"adult": 3000}, "a"),
                 "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("switched to ") and "domains: 3,000 (first generation)" in out
    assert "  adult  3,000" in out and "done in" in out

    good = archive(tmp_path, {"adult": 3100, "games": 20}, "b")
    assert main(["filter", "update", "--source", good, "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "domains: 3,000 → 3,120 (+120)" in out
    assert "adult  3,000 → 3,100 (+100)" in out and "new categories: games" in out

    shrunk = archive(tmp_path, {"adult": 1000}, "c")
    assert main(["filter", "update", "--source", shrunk, "--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert "carine: " in err and "adult: 3,100 → 1,000 domains (-68%)" in err and "hint:" in err

    assert main(["filter", "generations", "--index", str(index)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if line.startswith(("* ", "  2"))]) == 2
    assert lines[2].startswith("* ")  # the newest is current
    assert lines[-1].startswith("last attempt: update at ") and "refused" in lines[-1]

    assert main(["filter", "update", "--rollback", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rolled back to ") and "domains: 3,120 → 3,000 (-120)" in out
    assert "withdrawn" in out
    assert main(["filter", "update", "--rollback", "--index", str(index)]) == 2
    assert "no generation to roll back to" in capsys.readouterr().err
    assert main(["filter", "update", "--source", good, "--index", str(index)]) == 2
    assert "rolled back on" in capsys.readouterr().err


def test_usage_errors(tmp_path: Path, index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = archive(tmp_path, {"adult": 10}, "a")
    assert main(["filter", "update", "--source", source]) == 1
    assert "--index is required" in capsys.readouterr().err
    assert main(["filter", "update", "--source", source, "--index", str(index),
                 "--checksum", "abc"]) == 1
    assert "not an md5 or sha256 hex digest" in capsys.readouterr().err
    for bad in (["--max-shrink", "2"], ["--keep", "0"], ["--rollback"]):
        with pytest.raises(SystemExit) as exit_:
            main(["filter", "update", "--source", source, "--index", str(index), *bad])
        assert exit_.value.code == 2
    assert not index.exists()
    assert main(["filter", "generations", "--index", str(index)]) == 0
    assert "no generation yet" in capsys.readouterr().out


@pytest.fixture
def config(tmp_path: Path) -> Path:
    site = load_site(EXAMPLES / "site.yaml")
    path = tmp_path / "filtering.json"
    path.write_text(render_config(site, Layout.in_tree(tmp_path / "root")), encoding="utf-8")
    return path


def test_the_dns_views_follow_the_update(tmp_path: Path, config: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dnsstate, "system_resolver", lambda name: ["192.0.2.1"])
    refused = FilterConfig.load(config).run / BLOCKED_SERVERS
    source = archive(tmp_path, {"vpn": 3, "games": 5}, "a")
    assert main(["filter", "update", "--source", source, "--dns-config", str(config)]) == 0
    assert "DNS views: SafeSearch hosts resolved: " in capsys.readouterr().out
    assert "server=/vpn-a2.example/" in refused.read_text(encoding="utf-8")
    assert FilterConfig.load(config).index.is_symlink()  # the index it names was updated

    source = archive(tmp_path, {"vpn": 4, "games": 5}, "b")
    assert main(["filter", "update", "--source", source, "--dns-config", str(config)]) == 0
    capsys.readouterr()
    assert "server=/vpn-b3.example/" in refused.read_text(encoding="utf-8")
    assert main(["filter", "update", "--rollback", "--dns-config", str(config)]) == 0
    capsys.readouterr()
    assert "server=/vpn-b3.example/" not in refused.read_text(encoding="utf-8")

    assert main(["filter", "update", "--source", source, "--dns-config", str(config),
                 "--index", str(tmp_path / "other.cidx")]) == 1
    assert "is not the index" in capsys.readouterr().err


def test_a_failed_dns_refresh_keeps_the_switch_and_says_so(
        tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_: object, **__: object) -> None:
        raise OSError("no room left")

    monkeypatch.setattr(dnsstate, "refresh", broken)
    source = archive(tmp_path, {"vpn": 3}, "a")
    assert main(["filter", "update", "--source", source, "--dns-config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "switched to" in out and "DNS views: refresh FAILED: no room left" in out
    assert "the DNS views did not follow" in err and "dns-refresh --config" in err
    assert FilterConfig.load(config).index.is_symlink()


def test_the_helper_follows_updates_and_rollbacks(tmp_path: Path, config: Path) -> None:
    loaded = FilterConfig.load(config)
    update(Options(archive(tmp_path, {"games": 5}, "a"), loaded.index))
    now = [datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))]
    decider = Decider(loaded, Index.open, clock=lambda: now[0])
    assert decider.lists is not None
    assert decider.lists.lookup("games-a1.example") == {"games"}

    def later() -> None:
        now[0] += timedelta(seconds=2)  # past the helper's once-a-second check
        decider.refresh()

    update(Options(archive(tmp_path, {"games": 5}, "b"), loaded.index))
    later()
    assert decider.lists.lookup("games-b1.example") == {"games"}
    assert decider.lists.lookup("games-a1.example") == frozenset()
    rollback(loaded.index)
    later()
    assert decider.lists.lookup("games-a1.example") == {"games"}
    decider.lists.close()


def test_a_failed_switch_leaves_the_index_and_reports(tmp_path: Path, index: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "update", "--source", archive(tmp_path, {"adult": 10}, "a"),
                 "--index", str(index)]) == 0
    link = index.readlink()

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Store, "switch", full)
    assert main(["filter", "update", "--source", archive(tmp_path, {"adult": 10}, "b"),
                 "--index", str(index)]) == 1
    assert "the list update failed: [Errno 28] No space left" in capsys.readouterr().err
    assert index.readlink() == link
    status = json.loads(Store(index).status_path.read_text(encoding="utf-8"))
    assert status["result"] == "error" and "No space left" in status["reason"]


def test_without_a_current_index_the_newest_generation_is_the_yardstick(
        tmp_path: Path, index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "update", "--source", archive(tmp_path, {"adult": 2000}, "a"),
                 "--index", str(index)]) == 0
    index.unlink()  # lost: the helpers refuse filtered zones (fail closed)
    assert main(["filter", "update", "--source", archive(tmp_path, {"adult": 20}, "b"),
                 "--index", str(index)]) == 2
    assert "adult: 2,000 → 20 domains" in capsys.readouterr().err
    assert main(["filter", "update", "--rollback", "--index", str(index)]) == 0
    assert index.exists()
