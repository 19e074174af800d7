"""The exporter shows each access point's recorded radio state (carine_wifi_radio_on)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from appliance.state import connect
from monitoring.collect import ApplianceCollector, Paths
from network.wifi import store
from network.wifi.radio import RadioState

pytestmark = pytest.mark.unit


def scrape(tmp_path: Path) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApplianceCollector(Paths("0691234X", tmp_path, tmp_path, tmp_path,
                                               tmp_path / "rendered.json", ()), probes=False))
    return generate_latest(registry).decode()


def test_radio_states_are_exported(tmp_path: Path) -> None:
    assert "carine_wifi_radio_on{" not in scrape(tmp_path)  # no store yet: no sample, no error
    conn = store.open_store(connect(tmp_path / "state.sqlite"))
    now = datetime(2025, 3, 24, 7, 0, tzinfo=UTC)
    store.save(conn, RadioState("ap-cdi", True, "schedule", "carine-scheduler", now), "CDI",
               True, None)
    store.save(conn, RadioState("ap-b104", False, "manual", "mme.martin", now), "B104",
               False, "vendor access point")
    text = scrape(tmp_path)
    assert ('carine_wifi_radio_on{ap="ap-cdi",reason="schedule",room="CDI",uai="0691234X"} 1.0'
            in text)
    assert ('carine_wifi_radio_on{ap="ap-b104",reason="manual",room="B104",uai="0691234X"} 0.0'
            in text)
