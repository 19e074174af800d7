"""The unit API and its systemd renderer: names, hardening, timers, users and state dirs."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.systemd import render_units
from appliance.render.units import Health, Reload, Timer, Unit, all_units, daemons, units_of

pytestmark = pytest.mark.unit
LAYOUT = Layout.system()


def _portal() -> Unit:
    return Unit("portal", "CARINE portal", ("/opt/carine/venv/bin/carine-portal", "--x", "a b%"),
                user="carine-portal", state_dirs=(Path("/var/lib/carine/portal"),),
                capabilities=("CAP_NET_ADMIN",), reload=Reload("signal", signal="HUP"),
                health=Health("tcp", port=8080), environment=(("A", "1 2"),))


class _Declares:
    def __init__(self, *units: Unit | Timer) -> None:
        self._units = units

    def units(self, site: object, layout: Layout) -> tuple[Unit | Timer, ...]:
        return self._units


def _text(files: dict[Path, str], name: str) -> str:
    return files[LAYOUT.etc(f"systemd/system/{name}")]


def test_service_without_units_declares_nothing() -> None:
    assert units_of(object(), None, LAYOUT) == ()  # type: ignore[arg-type]


def test_service_unit_is_hardened_and_quoted() -> None:
    text = _text(render_units([_portal()], LAYOUT, "0691234X"), "carine-portal.service")
    assert 'ExecStart=/opt/carine/venv/bin/carine-portal --x "a b%%"' in text
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "UMask=0077",
                 "User=carine-portal", "CapabilityBoundingSet=CAP_NET_ADMIN",
                 "AmbientCapabilities=CAP_NET_ADMIN", "Restart=on-failure",
                 "ReadWritePaths=/var/lib/carine/portal", "ExecReload=/bin/kill -HUP $MAINPID",
                 "MemoryDenyWriteExecute=yes", 'Environment="A=1 2"', "WantedBy=carine.target"):
        assert line in text.splitlines(), line


def test_timer_starts_its_oneshot_and_target_wants_the_timer() -> None:
    job = Unit("lists-update", "update lists", ("/bin/true",), kind="oneshot")
    timer = Timer("lists-update", "nightly", "*-*-* 03:00:00", "lists-update")
    declared = all_units([_Declares(job, timer), _Declares(_portal())], None, LAYOUT)  # type: ignore[arg-type]
    files = render_units(declared, LAYOUT, "0691234X")
    assert "Unit=carine-lists-update.service" in _text(files, "carine-lists-update.timer")
    assert "WantedBy" not in _text(files, "carine-lists-update.service")
    target = _text(files, "carine.target").splitlines()
    assert "Wants=carine-lists-update.timer" in target
    assert "Wants=carine-portal.service" in target
    assert "Wants=carine-lists-update.service" not in target
    assert [u.name for u in daemons(declared)] == ["portal"]
    users = files[LAYOUT.config / "usr/lib/sysusers.d/carine.conf"]
    assert 'u carine-portal - "CARINE portal"' in users
    tmp = files[LAYOUT.config / "usr/lib/tmpfiles.d/carine.conf"]
    assert "d /var/lib/carine/portal 0750 carine-portal carine-portal -" in tmp


def test_bad_declarations_are_refused_by_name() -> None:
    with pytest.raises(CarineError, match="short lower-case"):
        Unit("Portal!", "x", ("/bin/true",))
    with pytest.raises(CarineError, match="no service declares"):
        all_units([_Declares(Timer("t", "x", "daily", "missing"))], None, LAYOUT)  # type: ignore[arg-type]
    with pytest.raises(CarineError, match="same unit"):
        all_units([_Declares(_portal()), _Declares(_portal())], None, LAYOUT)  # type: ignore[arg-type]


def test_exporter_watches_every_declared_daemon() -> None:
    from appliance.render import render_files
    from appliance.site import load_site
    from tests.conftest import EXAMPLES

    files = render_files(load_site(EXAMPLES / "site.yaml"), LAYOUT)
    watched = json.loads(files[PurePosixPath("etc/carine/monitoring.json")])["daemons"]
    units = json.loads(files[PurePosixPath("etc/carine/units.json")])
    simple = sorted(n.removeprefix("carine-").removesuffix(".service")
                    for n, u in units.items() if u["kind"] == "simple")
    assert watched == simple
    for name in ("dnsmasq", "squid", "chronyd", "freeradius", "portal", "blockpage", "exporter",
                 "prober", "journald", "scheduler"):
        assert name in watched, name
    assert any(n.startswith("dns-") for n in watched)


def test_lab_boot_order_runs_dependencies_first() -> None:
    from appliance.lab.runner import boot_order

    job = Unit("lists-update", "update lists", ("/bin/true",), kind="oneshot")
    timer = Timer("lists-update", "nightly", "*-*-* 03:00:00", "lists-update")
    purge = Unit("purge", "purge", ("/bin/true",), kind="oneshot")
    squid = Unit("squid", "proxy", ("/bin/true",), after=("lists-update", "dnsmasq"),
                 wants=("lists-update",))
    dnsmasq = Unit("dnsmasq", "dns", ("/bin/true",))
    order = boot_order([squid, job, timer, purge, dnsmasq,
                        Timer("purge", "daily", "daily", "purge")])
    assert [u.name for u in order] == ["lists-update", "dnsmasq", "squid"]
