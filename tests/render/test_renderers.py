"""What each renderer does with the parts of a site the two examples leave out.

The golden files pin the examples line by line; these tests pin the branches they do not reach:
filtering off, direct internet, zones without DHCP, explicit interfaces, DHCP ping check."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from appliance.render import Layout, render_files
from appliance.site import Site
from tests.conftest import lycee_variant as variant

pytestmark = pytest.mark.render

NFT = PurePosixPath("etc/nftables.conf")
DNSMASQ = PurePosixPath("etc/carine/dnsmasq.conf")
SQUID = PurePosixPath("etc/squid/squid.conf")
CHRONY = PurePosixPath("etc/chrony/chrony.conf")
DNS_HOOK = PurePosixPath("etc/carine/dnsmasq.d/filtering.conf")


def files_of(site: Site) -> dict[PurePosixPath, str]:
    return render_files(site, Layout.system())


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_filtering_disabled_renders_no_proxy() -> None:
    direct = {"internet": "direct"}
    files = files_of(variant(filtering={"enabled": False}, zone_admin=direct, zone_staff=direct,
                             zone_pedago=direct, zone_guest={**direct, "portal": None}))
    assert SQUID not in files
    assert DNS_HOOK in files  # dnsmasq's conf-dir must still find its hook file
    nft = files[NFT]
    assert "redirect to" not in nft
    assert "squid:" not in nft
    assert "udp dport 443 counter drop" not in nft  # no filtered zone left


def test_direct_zone_is_routed_without_the_proxy() -> None:
    files = files_of(variant(zone_guest={"internet": "direct", "portal": None}))
    nft = lines(files[NFT])
    assert 'iifname "eth1.40" oifname "eth0" accept comment "guest: direct internet"' in nft
    redirect = next(line for line in nft if "tcp dport 80 redirect" in line)
    assert '"eth1.40"' not in redirect
    quic = next(line for line in nft if "udp dport 443 counter drop" in line)
    assert '"eth1.40"' not in quic
    # A direct zone may still use the explicit proxy, but is not intercepted.
    explicit = next(line for line in nft if "squid: explicit proxy" in line)
    intercepted = next(line for line in nft if "tcp dport 3129 accept" in line)
    assert '"eth1.40"' in explicit
    assert '"eth1.40"' not in intercepted
    assert "acl zone_guest src 10.40.0.0/21" in files[SQUID]


def test_direct_zone_may_open_web_ports() -> None:
    site = variant(zone_guest={"internet": "direct",
                               "allow": [{"to": "internet", "ports": [443]}]})
    assert 'iifname "eth1.40" oifname "eth0" tcp dport 443 accept' in files_of(site)[NFT]


def test_zone_without_internet_gets_no_proxy(lycee_site: Site) -> None:
    files = files_of(lycee_site)
    assert "zone_mgmt" not in files[SQUID]
    explicit = next(line for line in lines(files[NFT]) if "squid: explicit proxy" in line)
    assert '"eth1.99"' not in explicit


def test_zone_without_dhcp_has_no_pool_but_dns_and_ntp() -> None:
    files = files_of(variant(zone_mgmt={"dhcp": None}))
    dnsmasq = files[DNSMASQ]
    assert "set:mgmt" not in dnsmasq
    assert "interface=eth1.99" in dnsmasq
    nft = lines(files[NFT])
    dhcp = next(line for line in nft if "dnsmasq: DHCP" in line)
    assert '"eth1.99"' not in dhcp
    dns = next(line for line in nft if line.endswith('comment "dnsmasq: DNS"'))
    assert '"eth1.99"' in dns
    assert "allow 10.99.0.0/24" in files[CHRONY]


def test_no_zone_with_dhcp_opens_no_dhcp_port() -> None:
    site = variant(zones=[{"name": "only", "purpose": "staff", "vlan": 5,
                           "subnet": "10.5.0.0/24", "profiles": ["enseignant"]}],
                   radius={}, wifi={}, storage={})  # their clients, APs, shares need the others
    nft = files_of(site)[NFT]
    assert "udp dport 67" not in nft
    assert "dhcp-range" not in files_of(site)[DNSMASQ]


def test_explicit_interface_is_used_everywhere() -> None:
    files = files_of(variant(zone_mgmt={"interface": "eth2"}))
    assert "interface=eth2" in files[DNSMASQ]
    assert '"eth2"' in files[NFT]
    assert "eth1.99" not in files[NFT] + files[DNSMASQ]


def test_uplink_nat(lycee_site: Site, ecole_site: Site) -> None:
    assert 'oifname "eth0" snat ip to 203.0.113.10' in files_of(lycee_site)[NFT]
    ecole = files_of(ecole_site)[NFT]
    assert 'oifname "eth0" masquerade' in ecole
    assert "snat" not in ecole


def test_ssh_only_from_managing_zones() -> None:
    nft = files_of(variant(zone_mgmt={"manages_appliance": False}))[NFT]
    assert "tcp dport 22" not in nft
    nft = files_of(variant(zone_admin={"manages_appliance": True}))[NFT]
    assert 'iifname { "eth1.10", "eth1.99" } tcp dport 22 accept' in nft


def test_opening_comment_defaults_to_its_target() -> None:
    site = variant(zone_staff={"allow": [{"to": "mgmt", "ports": [161], "proto": "udp"}]})
    nft = files_of(site)[NFT]
    assert ('iifname "eth1.20" oifname "eth1.99" ip daddr 10.99.0.0/24 udp dport 161 accept '
            'comment "staff: opening to mgmt"') in nft


def test_dhcp_ping_check() -> None:
    assert "\nno-ping\n" in files_of(variant())[DNSMASQ]
    assert "no-ping" not in files_of(variant(lan={"trunk": "eth1", "domain": "perrin.lan",
                                                  "dhcp_ping_check": True}))[DNSMASQ]


def test_dhcp_pools_hand_out_the_zone_gateway() -> None:
    files = files_of(variant(zone_pedago={"address": "10.30.3.254"}))
    dnsmasq = files[DNSMASQ]
    assert "dhcp-option=tag:pedago,option:router,10.30.3.254" in dnsmasq
    assert "dhcp-option=tag:pedago,option:dns-server,10.30.3.254" in dnsmasq
    assert "dhcp-range=set:pedago,10.30.0.50,10.30.3.250,255.255.252.0,4h" in dnsmasq


def test_every_file_names_its_school(lycee_site: Site) -> None:
    for path, content in files_of(lycee_site).items():
        if path.suffix != ".json":
            assert "(0691234X)" in content.splitlines()[0] + content.splitlines()[1], path


def test_proxy_ports_follow_the_site() -> None:
    site = variant(filtering={"proxy": {"port": 8080, "intercept_http": 8081,
                                        "intercept_https": 8082}})
    files = files_of(site)
    assert "http_port 8080\n" in files[SQUID]
    assert "http_port 8081 intercept\n" in files[SQUID]
    assert "https_port 8082 intercept ssl-bump" in files[SQUID]
    assert "redirect to :8081" in files[NFT]
    assert "redirect to :8082" in files[NFT]
    assert "tcp dport 8081 accept" in files[NFT]
    assert "tcp dport 8082 accept" in files[NFT]
