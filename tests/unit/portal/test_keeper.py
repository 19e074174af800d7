"""The portal's loop and grants in flight: a session whose element is missing from the listing
is idle, unless its grant was on its way or reached the kernel after the listing began (under a
login burst, nft may take longer than the loop's grace)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from appliance.run import Result
from appliance.sessions.store import Method, Session
from network.portal.access import Access
from network.portal.keeper import Keeper
from tests.unit.portal.conftest import Clock, FakeNft

pytestmark = pytest.mark.unit
IP = "10.40.0.77"


def opened(access: Access, clock: Clock, nft: FakeNft) -> Session:
    session = access.open(method=Method.PORTAL, login="eleve.k", profile="eleve", ip=IP,
                          mac=None, zone="invites")
    clock.now += 30  # long past the loop's grace
    nft.members.pop(IP)  # the listing will not show it
    return session


def still_open(access: Access) -> bool:
    return access.current(IP) is not None


def test_a_session_missing_from_the_set_is_closed_as_idle(access, clock, nft,
                                                           tmp_path: Path) -> None:
    opened(access, clock, nft)
    Keeper(access, arp=tmp_path / "arp").tick()
    assert not still_open(access)


def test_a_grant_on_its_way_is_not_taken_for_idle(access, clock, nft, tmp_path: Path) -> None:
    opened(access, clock, nft)
    access.sets.granted[IP] = math.inf  # as NftSets.apply marks it while nft runs
    Keeper(access, arp=tmp_path / "arp").tick()
    assert still_open(access)


def test_a_grant_applied_while_the_set_was_listed_is_not_taken_for_idle(
        access, clock, nft: FakeNft, tmp_path: Path) -> None:
    opened(access, clock, nft)

    def listing_then_grant(argv: Sequence[str], text: str) -> Result:
        result = nft(argv, text)
        if "-j" in argv:  # the grant lands just after the kernel answered the listing
            access.sets.granted[IP] = time.monotonic()
        return result

    access.sets.runner = listing_then_grant
    Keeper(access, arp=tmp_path / "arp").tick()
    assert still_open(access)
