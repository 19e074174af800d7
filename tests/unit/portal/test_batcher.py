"""Group commit of the gate's set changes: concurrent changes share nft transactions, each caller
returns only once its own change is applied, a bad change fails alone, and the loop knows which
grants are on their way."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from ipaddress import IPv4Address

import pytest

from appliance.errors import CarineError
from appliance.run import Result
from network.portal.batcher import Batcher
from network.portal.nftset import Grant, NftSets

pytestmark = pytest.mark.unit


class SlowApply:
    """Records every text applied; the first call waits until released (a busy nft)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def __call__(self, text: str) -> None:
        self.entered.set()
        self.release.wait(5)
        if "bad" in text:
            raise CarineError("nft refused it")
        self.texts.append(text)


def submit_all(batcher: Batcher, texts: Sequence[str]) -> dict[str, str]:
    results: dict[str, str] = {}

    def one(text: str) -> None:
        try:
            batcher.submit(text, timeout=10)
            results[text] = "ok"
        except CarineError as exc:
            results[text] = exc.message

    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_changes_asked_during_a_batch_share_the_next_one() -> None:
    apply = SlowApply()
    batcher = Batcher(apply)
    first = threading.Thread(target=batcher.submit, args=("first\n",))
    first.start()
    assert apply.entered.wait(5)
    waiting = [f"grant {i}\n" for i in range(20)]
    done: dict[str, str] = {}
    runner = threading.Thread(target=lambda: done.update(submit_all(batcher, waiting)))
    runner.start()
    deadline = time.monotonic() + 5
    while batcher.pending.qsize() < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    apply.release.set()
    runner.join(10)
    first.join(10)
    assert done == dict.fromkeys(waiting, "ok")
    assert apply.texts[0] == "first\n"
    assert batcher.batches == 2  # 21 changes, 2 nft transactions
    assert sorted(apply.texts[1].splitlines(keepends=True)) == sorted(waiting)


def test_a_quiet_portal_does_not_wait_for_company() -> None:
    apply = SlowApply()
    apply.release.set()
    batcher = Batcher(apply)
    for i in range(3):
        batcher.submit(f"change {i}\n")
    assert apply.texts == ["change 0\n", "change 1\n", "change 2\n"]  # in order, one each


def test_a_bad_change_fails_alone() -> None:
    apply = SlowApply()
    batcher = Batcher(apply)
    blocker = threading.Thread(target=batcher.submit, args=("first\n",))
    blocker.start()
    assert apply.entered.wait(5)
    texts = ["good 1\n", "bad 2\n", "good 3\n"]
    results: dict[str, str] = {}
    runner = threading.Thread(target=lambda: results.update(submit_all(batcher, texts)))
    runner.start()
    deadline = time.monotonic() + 5
    while batcher.pending.qsize() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    apply.release.set()
    runner.join(10)
    blocker.join(10)
    assert results == {"good 1\n": "ok", "bad 2\n": "nft refused it", "good 3\n": "ok"}
    assert "good 1\n" in apply.texts and "good 3\n" in apply.texts


def test_the_loop_knows_a_grant_on_its_way_or_applied_after_its_listing() -> None:
    seen_during: list[bool] = []
    sets: NftSets

    def nft(argv: Sequence[str], text: str) -> Result:
        seen_during.append(sets.granted_since("10.40.0.9", time.monotonic() + 3600))
        return Result(tuple(argv), 1 if "10.40.0.66" in text else 0, "", "refused")

    sets = NftSets(["portal_idle_30"], runner=nft, batched=True)
    before = time.monotonic()
    sets.apply([Grant(IPv4Address("10.40.0.9"), 60, "portal_idle_30", 600)])
    after = time.monotonic()
    assert seen_during == [True]  # on its way: whatever the listing's time
    assert sets.granted_since("10.40.0.9", before)
    assert not sets.granted_since("10.40.0.9", after + 1)
    with pytest.raises(CarineError):
        sets.apply([Grant(IPv4Address("10.40.0.66"), 60)])
    assert not sets.granted_since("10.40.0.66", before)  # refused: not on its way any more
    sets.apply(revokes=["10.40.0.9"])
    assert not sets.granted_since("10.40.0.9", before)
