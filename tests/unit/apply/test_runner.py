"""The ansible-runner wrapper's reading of events, apply's file list and the ready verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import pytest

from appliance.apply.generations import Store
from appliance.apply.ready import check_once
from appliance.apply.runner import HostSummary, Outcome, _summary, task_event
from appliance.apply.steps import extravars, file_items
from appliance.render import Layout
from appliance.render.pipeline import render_files
from tests.conftest import lycee_variant

pytestmark = pytest.mark.unit


def test_events_become_task_outcomes() -> None:
    changed = {"event": "runner_on_ok", "event_data": {
        "host": "perrin", "task": "Files of the tree", "res": {"changed": True}}}
    assert task_event(changed).status == "changed"  # type: ignore[union-attr]
    failed = task_event({"event": "runner_on_failed", "event_data": {
        "host": "perrin", "task": "ready", "res": {"msg": "non-zero", "stdout": "FAIL x"}}})
    assert failed is not None and failed.status == "failed" and "FAIL x" in failed.message
    assert task_event({"event": "playbook_on_start", "event_data": {}}) is None


def test_summary_per_host_and_rollback_is_not_success() -> None:
    hosts = _summary({"ok": {"a": 3, "b": 2}, "changed": {"a": 1}, "rescued": {"b": 1},
                      "failures": {"b": 1}, "dark": {}, "skipped": {}})
    assert hosts == (HostSummary("a", ok=3, changed=1), HostSummary("b", ok=2, failed=1,
                                                                    rescued=1))
    assert not Outcome("successful", hosts).success
    assert Outcome("successful", hosts[:1]).success and Outcome("successful", hosts).changed == 1


def test_files_carry_their_readers_and_checks(tmp_path) -> None:
    files = render_files(lycee_variant(), Layout.system())
    store = Store(tmp_path)
    gen = store.stage(files, uai="0691234X", timezone="Europe/Paris", site_text="x: 1\n",
                      now=datetime(2026, 12, 7, tzinfo=UTC))
    items = {i["path"]: i for i in file_items(gen)}
    assert items["etc/nftables.conf"]["validate"] == "nft -c -f %s"
    squid = {r["unit"]: r["action"] for r in items["etc/squid/squid.conf"]["readers"]}
    assert squid == {"carine-squid.service": "reloaded"}
    own = items["etc/systemd/system/carine-portal.service"]["readers"]
    assert own == [{"unit": "carine-portal.service", "action": "restarted"}]
    # A timer's oneshot runs at its time, never because its file was installed.
    assert items["etc/systemd/system/carine-lists-update.service"]["readers"] == []
    assert items["etc/carine/site.yaml"]["src"] == str(gen.folder / "site.yaml")
    assert (gen.folder / "site.yaml").read_text() == "x: 1\n"
    extra = extravars(gen, None, check=False, packages=False)
    assert extra["carine_previous_tree"] == "" and extra["carine_packages"] == []
    # A first apply restarts nothing: the appliance's target starts every unit at the end.
    assert all(item["readers"] == [] for item in extra["carine_files"])
    again = extravars(gen, gen, check=False, packages=False)
    assert {"unit": "carine-squid.service", "action": "reloaded"} in next(
        i for i in again["carine_files"] if i["path"] == "etc/squid/squid.conf")["readers"]
    assert PurePosixPath("etc/carine/units.json") in gen.contents()


def test_ready_needs_active_and_healthy() -> None:
    units: dict[str, dict[str, Any]] = {
        "carine-a.service": {"kind": "simple", "health": {"kind": "tcp", "port": 1}},
             "carine-b.service": {"kind": "simple", "health": None},
             "carine-up.service": {"kind": "oneshot"},
             "carine-t.timer": {"kind": "timer", "unit": "carine-up.service"}}
    state = {"carine-a.service": "active", "carine-b.service": "failed",
             "carine-t.timer": "active"}
    verdicts = check_once(units, active=lambda u: (state.get(u) == "active", state.get(u, "?")),
                          health=lambda h: (False, "refused"))
    assert {v.unit: v.ok for v in verdicts} == {"carine-a.service": False,
                                                "carine-b.service": False,
                                                "carine-t.timer": True}
