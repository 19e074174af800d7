"""carine diff: file diffs, secrets masked; which unit a changed file reloads or restarts."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from appliance.apply.diff import MASK, mask, plan, report
from appliance.render import Layout
from appliance.render.pipeline import render_files
from tests.conftest import lycee_variant

pytestmark = pytest.mark.unit
P = PurePosixPath


def _units(**units: object) -> str:
    return json.dumps(units)


def _tree(**extra: str) -> dict[PurePosixPath, str]:
    units = _units(**{
        "carine-squid.service": {"kind": "simple", "reads": ["/etc/squid/squid.conf"],
                                 "reload": {"kind": "command"}},
        "carine-portal.service": {"kind": "simple", "reads": ["/etc/carine/portal.json"],
                                  "reload": {"kind": "restart"}},
        "carine-nftables.service": {"kind": "oneshot", "reads": ["/etc/nftables.conf"],
                                    "reload": {"kind": "restart"}},
        "carine-dns.service": {"kind": "simple", "reads": ["/etc/carine/dns-views"],
                               "reload": {"kind": "signal"}},
    })
    tree = {P("etc/carine/units.json"): units, P("etc/squid/squid.conf"): "http_port 3128\n",
            P("etc/carine/portal.json"): '{"a": 1}\n', P("etc/nftables.conf"): "table x\n",
            P("etc/carine/dns-views/safe.conf"): "x\n",
            P("etc/systemd/system/carine-squid.service"): "[Service]\n"}
    tree.update({P(k.replace("__", "/").replace("_", ".")): v for k, v in extra.items()})
    return tree


def test_same_tree_changes_nothing() -> None:
    p = plan(_tree(), _tree())
    assert p.empty and not p.units and not p.system
    assert "nothing to change" in report(p)


def test_changed_file_reloads_or_restarts_its_reader_only() -> None:
    old, new = _tree(), _tree()
    new[P("etc/squid/squid.conf")] = "http_port 3129\n"
    new[P("etc/carine/dns-views/safe.conf")] = "y\n"
    new[P("etc/nftables.conf")] = "table y\n"
    p = plan(old, new)
    actions = {a.unit: a.action for a in p.units}
    assert actions == {"carine-squid.service": "reload", "carine-dns.service": "reload",
                       "carine-nftables.service": "restart"}
    assert "-http_port 3128" in p.files[-1].diff or any("-http_port 3128" in c.diff
                                                          for c in p.files)


def test_unit_file_change_restarts_and_asks_daemon_reload() -> None:
    old, new = _tree(), _tree()
    new[P("etc/systemd/system/carine-squid.service")] = "[Service]\nUser=proxy\n"
    p = plan(old, new)
    assert [(a.unit, a.action) for a in p.units] == [("carine-squid.service", "restart")]
    assert p.system == ("systemctl daemon-reload",)


def test_first_apply_starts_everything_and_removed_units_stop() -> None:
    p = plan({}, _tree())
    assert {a.action for a in p.units} == {"start"}
    gone = _tree()
    doc = json.loads(gone[P("etc/carine/units.json")])
    del doc["carine-portal.service"]
    gone[P("etc/carine/units.json")] = json.dumps(doc)
    stops = [a for a in plan(_tree(), gone).units if a.action == "stop"]
    assert [a.unit for a in stops] == ["carine-portal.service"]


def test_secrets_are_masked_in_diffs() -> None:
    assert mask('  "password_hash": "$argon2id$abc",') == f'  "password_hash": {MASK},'
    assert mask("secret = s3cr3t") == f"secret = {MASK}"
    assert mask("http_port 3128") == "http_port 3128"
    old = {P("etc/carine/monitoring.json"): '{"password_hash": "old-hash"}\n',
           P("var/lib/x/server.key"): "-----BEGIN KEY-----\nAAAA\n"}
    new = {P("etc/carine/monitoring.json"): '{"password_hash": "new-hash"}\n',
           P("var/lib/x/server.key"): "-----BEGIN KEY-----\nBBBB\n"}
    text = report(plan(old, new))
    assert "old-hash" not in text and "new-hash" not in text
    assert "AAAA" not in text and "BBBB" not in text and "secret file" in text


def test_one_zone_change_touches_only_its_readers() -> None:
    """On the real renderers: a new DHCP lease in one zone reloads only DHCP's readers."""
    layout = Layout.system()
    base = render_files(lycee_variant(), layout)
    assert plan(base, render_files(lycee_variant(), layout)).empty
    zone = lycee_variant().zones[0]
    assert zone.dhcp is not None
    dhcp = {"start": str(zone.dhcp.start), "end": str(zone.dhcp.end), "lease": "3h"}
    p = plan(base, render_files(lycee_variant(**{f"zone_{zone.name}": {"dhcp": dhcp}}), layout))
    touched = {a.unit for a in p.units}
    assert touched == {"carine-dnsmasq.service"}, report(p)
