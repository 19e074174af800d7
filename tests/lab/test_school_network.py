"""The school network, for real: DHCP, DNS, the proxy (explicit and transparent), the firewall.

examples/site.yaml in network namespaces, with the real nftables, dnsmasq and Squid."""

from __future__ import annotations

import re
from ipaddress import IPv4Address

import pytest

from appliance.lab.driver import LabDriver
from appliance.lab.topology import UPLINK_ADDRESS, WEB_ADDRESS
from appliance.site import load_site
from tests.lab.conftest import SITE

pytestmark = pytest.mark.lab

SITE_MODEL = load_site(SITE)
PUPIL, STAFF, ADMIN, GUEST, MGMT = "pedago-1", "staff-1", "admin-1", "guest-1", "mgmt-1"


@pytest.mark.parametrize("zone", [z.name for z in SITE_MODEL.zones])
def test_client_gets_a_lease_in_its_zone(lab: LabDriver, zone: str) -> None:
    node = f"{zone}-1"
    subnet = SITE_MODEL.zone(zone).subnet
    gateway = str(SITE_MODEL.zone(zone).gateway())
    lease = lab.lease(node)
    dhcp = SITE_MODEL.zone(zone).dhcp
    assert dhcp is not None
    address = IPv4Address(lease["ip"])
    assert address in subnet and dhcp.start <= address <= dhcp.end
    assert lease["router"] == gateway and lease["dns"] == gateway and lease["ntp"] == gateway
    assert lease["domain"] == SITE_MODEL.lan.domain
    shown = lab.exec(node, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout
    assert f"{address}/{subnet.prefixlen}" in shown


def test_pupil_resolves_names_through_the_appliance(lab: LabDriver) -> None:
    resolv = lab.exec(PUPIL, ["cat", "/etc/resolv.conf"]).stdout
    assert "nameserver 10.30.0.1" in resolv
    answer = lab.exec(PUPIL, ["getent", "hosts", "www.education.gouv.fr"])
    assert answer.ok and answer.stdout.split()[0] == str(WEB_ADDRESS)
    # Names the appliance learnt from DHCP resolve in the school's domain.
    staff = lab.exec(PUPIL, ["getent", "hosts", f"{STAFF}.{SITE_MODEL.lan.domain}"])
    assert staff.ok and staff.stdout.split()[0] == str(lab.address(STAFF))


@pytest.mark.parametrize("zone", [z.name for z in SITE_MODEL.zones])
def test_appliance_serves_time_to_every_zone(lab: LabDriver, zone: str) -> None:
    """D-NET-3: chrony on the appliance, synchronised to the simulated internet's stratum 8."""
    from appliance.lab import netns

    gateway = str(SITE_MODEL.zone(zone).gateway())
    answers: list[str] = []

    def synchronised() -> bool:
        result = lab.probe(f"{zone}-1", "ntp", gateway, 123)
        answers.append(result.output())
        return "stratum=9 leap=0" in result.stdout

    netns.wait_for(f"NTP from {zone}", synchronised, timeout=30)


def _served(body: str, host: str, scheme: str) -> None:
    assert f"carine-wan host={host} scheme={scheme}" in body
    # The origin sees the school's public address: NAT or the proxy, never the pupil.
    assert f"client={UPLINK_ADDRESS.ip}" in body


def test_http_through_the_explicit_proxy(lab: LabDriver) -> None:
    result = lab.curl(PUPIL, "http://www.example.org/explicit", proxy="http://10.30.0.1:3128")
    assert result.ok, result.output()
    _served(result.stdout, "www.example.org", "http")
    pupil = lab.address(PUPIL)
    assert re.search(rf" {pupil} \S+ - TCP_MISS/200 GET http://www.example.org/explicit ",
                     lab.proxy_log())


def test_http_is_intercepted_transparently(lab: LabDriver) -> None:
    result = lab.curl(PUPIL, "http://apps.education.fr/transparent")
    assert result.ok, result.output()
    _served(result.stdout, "apps.education.fr", "http")
    pupil = lab.address(PUPIL)
    assert re.search(rf" {pupil} .* GET http://apps.education.fr/transparent ", lab.proxy_log())


def test_https_through_connect(lab: LabDriver) -> None:
    result = lab.curl(PUPIL, "https://www.education.gouv.fr/connect",
                      proxy="http://10.30.0.1:3128")
    assert result.ok, result.output()
    _served(result.stdout, "www.education.gouv.fr", "https")
    assert re.search(rf" {lab.address(PUPIL)} .* CONNECT www.education.gouv.fr:443 ",
                     lab.proxy_log())


def test_https_is_spliced_with_the_origin_certificate_intact(lab: LabDriver) -> None:
    url = "https://ent.auvergnerhonealpes.fr/spliced"
    result = lab.curl(PUPIL, url, verbose=True)
    assert result.ok, result.output()
    _served(result.stdout, "ent.auvergnerhonealpes.fr", "https")
    # The client verified the origin's own certificate (lab CA), not one minted by Squid.
    assert "issuer: CN=CARINE lab CA" in result.stderr
    assert "subject: CN=ent.auvergnerhonealpes.fr" in result.stderr
    # And Squid did see it: it logged the SNI it peeked at, for this pupil.
    assert re.search(rf" {lab.address(PUPIL)} .* ent.auvergnerhonealpes.fr ", lab.proxy_log())


def test_quic_from_a_filtered_zone_is_dropped(lab: LabDriver) -> None:
    def quic_drops() -> int:
        rules = lab.nft("list", "chain", "inet", "carine", "forward").stdout
        match = re.search(r"udp dport 443 counter packets (\d+)", rules)
        assert match, rules
        return int(match.group(1))

    before = quic_drops()
    assert not lab.probe(PUPIL, "udp", str(WEB_ADDRESS), 443).ok
    assert quic_drops() > before
    # Control: the same service answers when asked from outside the filtered zones.
    control = lab.probe("appliance", "udp", str(WEB_ADDRESS), 443)
    assert control.ok and "carine-wan udp/443" in control.stdout


@pytest.mark.parametrize("port", [22, 993, 8080])
def test_pupil_direct_traffic_to_other_ports_is_dropped(lab: LabDriver, port: int) -> None:
    assert not lab.probe(PUPIL, "tcp", str(WEB_ADDRESS), port).ok
    assert lab.probe("appliance", "tcp", str(WEB_ADDRESS), port).ok  # the service is there


@pytest.mark.parametrize(("target", "port"), [(STAFF, 22), (STAFF, 11100), (ADMIN, 22),
                                              (ADMIN, 9100), (MGMT, 9100), (MGMT, 22)])
def test_pupil_cannot_reach_staff_admin_or_management(lab: LabDriver, target: str,
                                                      port: int) -> None:
    assert not lab.probe(PUPIL, "tcp", str(lab.address(target)), port).ok


def test_guest_cannot_reach_the_pupils(lab: LabDriver) -> None:
    assert not lab.probe(GUEST, "tcp", str(lab.address(PUPIL)), 11100).ok


def test_staff_reaches_what_its_zone_allows(lab: LabDriver) -> None:
    pupil_pc = str(lab.address(PUPIL))
    veyon = lab.probe(STAFF, "tcp", pupil_pc, 11100)
    assert veyon.ok and f"carine-{PUPIL} tcp/11100" in veyon.stdout
    printer = lab.probe(STAFF, "tcp", str(lab.address(MGMT)), 9100)
    assert printer.ok and f"carine-{MGMT} tcp/9100" in printer.stdout
    # HTTPS to another school zone is routed to it, not intercepted by the proxy.
    printer_page = lab.probe(STAFF, "tcp", str(lab.address(MGMT)), 443)
    assert printer_page.ok and f"carine-{MGMT} tcp/443" in printer_page.stdout
    mail = lab.probe(STAFF, "tcp", str(WEB_ADDRESS), 993)
    assert mail.ok and "carine-wan tcp/993" in mail.stdout
    web = lab.curl(STAFF, "https://www.example.org/staff")
    assert web.ok and "host=www.example.org" in web.stdout
    # ...and nothing more: SSH on a pupil PC and the internet's SSH stay closed.
    assert not lab.probe(STAFF, "tcp", pupil_pc, 22).ok
    assert not lab.probe(STAFF, "tcp", str(WEB_ADDRESS), 22).ok


def test_management_zone_has_no_internet(lab: LabDriver) -> None:
    assert not lab.curl(MGMT, "http://www.example.org/", timeout=2).ok
    assert not lab.probe(MGMT, "tcp", str(WEB_ADDRESS), 993).ok


def test_host_link_reaches_the_appliance_management_address(lab: LabDriver) -> None:
    import sys

    from appliance.run import run

    host = lab.state.info["host"]
    result = run([sys.executable, "-m", "appliance.lab.probe", "tcp", host["appliance"], "53"],
                 check=False)
    assert result.ok, result.output()
