"""The real tools judge what we render: nft -c, dnsmasq --test, squid -k parse, chronyd -p.

Positive: every example renders to a tree every tool accepts. Negative: a corrupted file makes the
matching check fail, which proves each check really asks its tool (a check that always said "ok"
would pass the positive tests). Finally nft really loads the ruleset in a throwaway namespace.

Needs root (nft talks to the kernel, even with -c) and the four programs: without them the tests
skip on a workstation and fail in CI (see tests/conftest.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.render import CheckResult, check_tree, render_tree
from appliance.run import run
from appliance.site import Site, load_site
from tests.conftest import EXAMPLES, lycee_variant, require_root, require_tool

pytestmark = pytest.mark.contract

TOOLS = ("nft", "dnsmasq", "squid", "chronyd", "freeradius")
EXAMPLE_SITES = sorted(EXAMPLES.glob("*.yaml"))


def _need_everything() -> None:
    require_root()
    for tool in TOOLS:
        require_tool(tool)


def _shown(results: list[CheckResult]) -> str:
    lines = []
    for r in results:
        lines.append(f"{'ok  ' if r.ok else 'FAIL'} {r.service}: {r.command}")
        if r.note:
            lines.append(f"    note: {r.note}")
        lines += [f"    {line}" for line in r.output.splitlines()]
    return "\n".join(lines)


def _result(results: list[CheckResult], service: str) -> CheckResult:
    found = [r for r in results if r.service == service]
    assert len(found) == 1, _shown(results)
    return found[0]


@pytest.fixture
def lycee_tree(lycee_site: Site, tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    render_tree(lycee_site, root)
    return root


@pytest.mark.parametrize("example", EXAMPLE_SITES, ids=lambda p: p.stem)
def test_every_tool_accepts_the_rendered_tree(example: Path, tmp_path: Path) -> None:
    _need_everything()
    root = tmp_path / "tree"
    render_tree(load_site(example), root)
    results = check_tree(root)
    print(_shown(results))
    assert {"appliance", "chrony", "dnsmasq", "nftables", "squid"} <= {r.service for r in results}
    assert all(r.ok for r in results), _shown(results)


VARIANTS = {
    "filtering-off": lambda: lycee_variant(
        filtering={"enabled": False}, zone_admin={"internet": "direct"},
        zone_staff={"internet": "direct"}, zone_pedago={"internet": "direct"},
        zone_guest={"internet": "direct"}),
    "direct-guest-static-mgmt": lambda: lycee_variant(
        zone_guest={"internet": "direct", "allow": [{"to": "internet", "ports": [443]}]},
        zone_mgmt={"dhcp": None, "interface": "eth2", "address": "10.99.0.254"}),
    "dhcp-ping-check-other-ports": lambda: lycee_variant(
        lan={"trunk": "bond0", "domain": "perrin.lan", "dhcp_ping_check": True},
        filtering={"proxy": {"port": 8080, "intercept_http": 8081, "intercept_https": 8082}}),
    "one-zone-no-dhcp": lambda: lycee_variant(zones=[{
        "name": "only", "purpose": "staff", "vlan": 5, "subnet": "10.5.0.0/24",
        "profiles": ["enseignant"]}],
        radius={}, wifi={},  # their clients and access points need the other zones
        storage={"enabled": True, "zones": ["only"], "port": 8444}),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_tool_accepts_variants_of_the_site(name: str, tmp_path: Path) -> None:
    # The examples do not reach every branch of the templates; these variants do.
    _need_everything()
    root = tmp_path / "tree"
    render_tree(VARIANTS[name](), root)
    results = check_tree(root)
    print(_shown(results))
    assert results
    assert all(r.ok for r in results), _shown(results)


def _insert_before(marker: str, line: str) -> Callable[[str], str]:
    def corrupt(text: str) -> str:
        assert marker in text, marker
        return text.replace(marker, line + marker, 1)
    return corrupt


def _append(line: str) -> Callable[[str], str]:
    return lambda text: text + line


CORRUPTIONS = [
    pytest.param("nftables", "etc/nftables.conf",
                 _insert_before('\t\tcounter comment "dropped towards',
                                "\t\tbogus statement here\n"),
                 "syntax error", id="nftables-bogus-statement"),
    pytest.param("nftables", "etc/nftables.conf",
                 _insert_before('\t\tcounter comment "dropped towards',
                                "\t\tip saddr @nosuchset accept\n"),
                 "nosuchset", id="nftables-unknown-set"),
    pytest.param("dnsmasq", "etc/carine/dnsmasq.conf", _append("no-such-option=1\n"),
                 "bad option", id="dnsmasq-bogus-option"),
    pytest.param("dnsmasq", "etc/carine/dnsmasq.conf",
                 _append("dhcp-range=set:x,10.77.0.300,10.77.0.20,255.255.255.0,1h\n"),
                 "bad dhcp-range", id="dnsmasq-bad-range"),
    pytest.param("squid", "etc/squid/squid.conf", _append("no_such_directive on\n"),
                 "no_such_directive", id="squid-bogus-directive"),
    pytest.param("squid", "etc/squid/squid.conf", _append("http_access allow no_such_acl\n"),
                 "no_such_acl", id="squid-undefined-acl"),
    pytest.param("chrony", "etc/chrony/chrony.conf", _append("bogusdirective 1\n"),
                 "Invalid directive", id="chrony-bogus-directive"),
    pytest.param("chrony", "etc/chrony/chrony.conf", _append("allow 10.0.0.0/24 extra\n"),
                 "Could not parse allow directive", id="chrony-bad-allow"),
    pytest.param("appliance", "etc/sysctl.d/90-carine.conf",
                 _append("net.ipv4.no_such_setting = 1\n"),
                 "net.ipv4.no_such_setting", id="sysctl-unknown-key"),
]


@pytest.mark.parametrize(("service", "path", "corrupt", "says"), CORRUPTIONS)
def test_a_corrupted_file_fails_its_check(
    lycee_tree: Path, service: str, path: str, corrupt: Callable[[str], str], says: str
) -> None:
    _need_everything()  # check_tree runs every service's tool, not only the corrupted one's
    target = lycee_tree / path
    target.write_text(corrupt(target.read_text(encoding="utf-8")), encoding="utf-8")
    results = check_tree(lycee_tree)
    print(_shown(results))
    judged = _result(results, service)
    assert not judged.ok, _shown(results)
    assert says in judged.output, _shown(results)
    # Only the corrupted file's service fails: the others still pass.
    assert all(r.ok for r in results if r.service != service), _shown(results)


def test_nft_loads_the_ruleset_in_a_namespace(lycee_tree: Path) -> None:
    require_root()
    require_tool("nft")
    require_tool("ip")
    ruleset = lycee_tree / "etc/nftables.conf"
    namespace = f"carine-t-{secrets.token_hex(4)}"
    run(["ip", "netns", "add", namespace])
    try:
        def in_ns(*argv: str) -> str:
            return run(["ip", "netns", "exec", namespace, *argv]).stdout

        in_ns("nft", "-f", str(ruleset))
        listed = in_ns("nft", "list", "set", "inet", "carine", "authorised")
        assert "set authorised" in listed
        assert "timeout" in listed.split("flags", 1)[1].split("\n", 1)[0]
        # The runtime fills the sets with timed elements; the kernel must take them.
        in_ns("nft", "add", "element", "inet", "carine", "authorised",
              "{ 10.30.0.77 timeout 1h }")
        assert "10.30.0.77" in in_ns("nft", "list", "set", "inet", "carine", "authorised")
        # Loading the file again replaces the rules atomically (apply is repeatable) and keeps
        # the sets' elements: a reload logs nobody out.
        in_ns("nft", "-f", str(ruleset))
        assert "10.30.0.77" in in_ns("nft", "list", "set", "inet", "carine", "authorised")
        chains = in_ns("nft", "list", "table", "inet", "carine")
        assert chains.count("ct state established,related accept") == 2  # not doubled
        for chain in ("input", "forward", "output", "prerouting", "postrouting"):
            assert f"chain {chain} {{" in chains
        assert 'snat ip to 203.0.113.10' in chains
        assert chains.count("chain input {") == 1
    finally:
        run(["ip", "netns", "delete", namespace], check=False)
    assert namespace not in run(["ip", "netns", "list"]).stdout
