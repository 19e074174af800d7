"""The prober in the lab: the exporter shows the ENT reachable direct and through the proxy; when
the simulated internet stops serving the web its probes fail, the uplink stays up, then recovery."""

from __future__ import annotations

import base64
import os
import signal
import time
import urllib.request
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from appliance.lab.driver import LabDriver
from appliance.lab.topology import WEB_ADDRESS

pytestmark = pytest.mark.lab

PASSWORD = "exemple-a-changer"  # examples/site.yaml's documented example password
CUT = "carine-labcut"
Seen = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics(lab: LabDriver) -> Seen:
    url = f"http://{lab.state.info['host']['appliance']}:9108/metrics"
    token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        text = answer.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(seen: Seen, name: str, **labels: str) -> float | None:
    """The one sample of ``name`` whose labels include ``labels`` (None: none, or several)."""
    found = [v for (n, ls), v in seen.items() if n == name and set(labels.items()) <= ls]
    return found[0] if len(found) == 1 else None


def ent(seen: Seen, path: str) -> float | None:
    return value(seen, "carine_probe_success", service="ent", check="http", path=path)


def ent_dns(seen: Seen, resolver: str) -> float | None:
    return value(seen, "carine_probe_success", service="ent", check="dns", path=resolver)


def wait_until(what: str, lab: LabDriver, ready: Callable[[Seen], bool],
               timeout: float) -> Seen:
    """Scrape until ``ready`` holds for the metrics; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    seen: Seen = {}
    while time.monotonic() < deadline:
        seen = metrics(lab)
        if ready(seen):
            return seen
        time.sleep(0.5)
    lines = sorted(f"{n}{dict(ls)} {v}" for (n, ls), v in seen.items()
                   if n.startswith(("carine_probe_success", "carine_uplink")))
    pytest.fail(f"{what} within {timeout:.0f}s; last scrape:\n" + "\n".join(lines)
                + "\nprober log:\n" + lab.log("appliance-prober.log")[-3000:])


def run_probes_now(lab: LabDriver) -> None:
    """SIGUSR1: the prober runs every probe now instead of at its next interval."""
    (pid,) = [p.pid for p in lab.state.procs if p.name == "prober"]
    os.kill(pid, signal.SIGUSR1)


def test_the_ent_is_probed_both_ways_and_its_loss_is_seen_but_not_the_uplinks(
        lab: LabDriver) -> None:
    # Each probe has its own schedule and jitter: wait for every one this test reads.
    seen = wait_until("the ENT resolved both ways, probed direct and through the proxy, the "
                      "uplink pinged", lab,
                      lambda m: ent(m, "direct") == 1 and ent(m, "proxy") == 1
                      and ent_dns(m, "appliance") == 1 and ent_dns(m, "upstream") == 1
                      and value(m, "carine_uplink_up") == 1, timeout=60)
    assert value(seen, "carine_probe_http_status_code", service="ent", path="proxy") == 200
    expiry = value(seen, "carine_probe_tls_expiry_timestamp_seconds", service="ent")
    assert expiry is not None and expiry > time.time()  # the lab CA's certificate, trusted
    assert value(seen, "carine_daemon_up", daemon="prober") == 1

    # The simulated internet stops serving the web (every name is one address in the lab, so
    # the ENT cannot be cut alone); DNS and the gateway keep answering. Reset rather than drop:
    # the probes fail at once and the cut is short for whoever else uses the lab.
    lab.exec("wan", ["nft", "add", "table", "inet", CUT])
    try:
        lab.exec("wan", ["nft", "add", "chain", "inet", CUT, "input",
                         "{ type filter hook input priority -10 ; }"])
        cut = lab.exec("wan", ["nft", "add", "rule", "inet", CUT, "input", "ip", "daddr",
                               str(WEB_ADDRESS), "tcp", "dport", "{ 80, 443 }",
                               "reject", "with", "tcp", "reset"])
        assert cut.ok, cut.output()
        run_probes_now(lab)
        seen = wait_until("the ENT's loss seen on both paths", lab,
                          lambda m: ent(m, "direct") == 0 and ent(m, "proxy") == 0, timeout=90)
        assert value(seen, "carine_uplink_up") == 1
        assert ent_dns(seen, "appliance") == 1
    finally:
        lab.exec("wan", ["nft", "delete", "table", "inet", CUT])
    run_probes_now(lab)
    wait_until("the ENT back on both paths", lab,
               lambda m: ent(m, "direct") == 1 and ent(m, "proxy") == 1, timeout=90)
