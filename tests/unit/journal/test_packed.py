"""Packed segments (zstd blocks in key order): the same answers as the rows they replace, and
verify finds any change to a block, its digest or the ledger's pack line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from appliance.journal import Journal, ledger, packed, query, segment
from appliance.journal.seal import pack_due, seal_due
from appliance.journal.verify import verify
from tests.unit.journal.conftest import DAY0

pytestmark = pytest.mark.unit
DAY = date(2026, 3, 9)


def _journal(root: Path) -> None:
    with Journal.open(root) as journal:
        journal.append_many("session", [
            {"event": "start" if i % 3 else "end", "login": f"u{i % 13}",
             "ip": f"10.30.0.{i % 13}"} for i in range(120)],
            at=[DAY0 + timedelta(minutes=i) for i in range(120)])
        journal.append_many("navigation", [
            {"ip": f"10.30.0.{i % 13}", "login": f"u{i % 13}", "host": f"h{i % 17}.site{i % 5}.fr",
             "decision": "allow"} for i in range(400)],
            at=[DAY0 + timedelta(seconds=37 * i) for i in range(400)])
        journal.append_many("nat", [
            {"ip": f"10.30.0.{i % 13}", "pub_ip": "203.0.113.10", "pub_port": 1024 + i % 40,
             "proto": "tcp"} for i in range(200)],
            at=[DAY0 + timedelta(seconds=50 * i) for i in range(200)])
    seal_due(root, now=DAY0 + timedelta(days=1, hours=2))


def _answers(root: Path) -> list[object]:
    out: list[object] = []
    for n in range(14):
        out.append(query.who_had(root, f"10.30.0.{n}", DAY0 + timedelta(minutes=7 * n + 3)))
    for port in (1024, 1030, 1063, 2000):
        out.append(query.who_had(root, "203.0.113.10", DAY0 + timedelta(hours=2), port))
    out.append(query.who_had(root, "203.0.113.10", DAY0 + timedelta(hours=2)))
    for host in ("site0.fr", "h3.site3.fr", "fr", "h1.site1.fr", "nowhere.fr"):
        out.append(query.visited(root, host, DAY, zone="UTC"))
        out.append(query.visited(root, host, DAY, zone="UTC", subdomains=False))
    return out


def test_packed_blocks_answer_as_the_rows_did(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "j"
    _journal(root)
    before = _answers(root)
    monkeypatch.setattr(packed, "BLOCK_RECORDS", 16)  # many blocks, keys across their edges
    monkeypatch.setattr(packed, "LOOKUP_BLOCK_RECORDS", 16)
    said = pack_due(root, now=DAY0 + timedelta(days=3))
    assert said == ["packed session 2026-03-09: 120 records in 8 blocks",
                    "packed nat 2026-03-09: 200 records in 13 blocks",
                    "packed navigation 2026-03-09: 400 records in 25 blocks"]
    assert _answers(root) == before
    report = verify(root)
    assert report.ok, report.problems
    assert report.records == 720
    assert pack_due(root, now=DAY0 + timedelta(days=3)) == []  # nothing twice
    with sqlite3.connect(segment.segment_path(root, "navigation", DAY)) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (0,)
        keys = [(lo, hi) for lo, hi in conn.execute("SELECT lo, hi FROM blocks ORDER BY id")]
    assert keys == sorted(keys) and all(lo <= hi for lo, hi in keys)


def test_recent_days_are_not_packed(tmp_path: Path) -> None:
    root = tmp_path / "j"
    _journal(root)
    # The forwarder still reads yesterday's rows: packing waits two days after the day.
    assert pack_due(root, now=DAY0 + timedelta(days=1, hours=2)) == []


@pytest.fixture
def packed_root(tmp_path: Path) -> Path:
    root = tmp_path / "j"
    _journal(root)
    pack_due(root, now=DAY0 + timedelta(days=3))
    return root


def _block(root: Path, kind: str = "navigation") -> sqlite3.Connection:
    return sqlite3.connect(segment.segment_path(root, kind, DAY))


def test_a_changed_block_byte_is_found(packed_root: Path) -> None:
    with _block(packed_root) as conn:
        (data,) = conn.execute("SELECT data FROM blocks WHERE id = 1").fetchone()
        data = bytearray(data)
        data[len(data) // 2] ^= 0x10
        conn.execute("UPDATE blocks SET data = ? WHERE id = 1", (bytes(data),))
    problems = verify(packed_root).problems
    assert any("navigation/2026-03-09: block 1 was altered" in p for p in problems), problems


def test_a_rewritten_block_with_its_hash_is_found_by_the_ledger(packed_root: Path) -> None:
    # Someone rewrites a record, recompresses the block, recomputes its hash, the digest in the
    # file: the chain head against the seal and the pack line in the ledger still disagree.
    with _block(packed_root) as conn:
        (data,) = conn.execute("SELECT data FROM blocks WHERE id = 1").fetchone()
        import zstandard

        text = zstandard.ZstdDecompressor().decompress(data).decode()
        text = text.replace('"decision":"allow"', '"decision":"block"', 1)
        new = zstandard.ZstdCompressor().compress(text.encode())
        conn.execute("UPDATE blocks SET data = ?, hash = ? WHERE id = 1",
                     (new, packed.block_hash("navigation", DAY, 1, new)))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'packed'", (packed.digest(conn)[0],))
    problems = verify(packed_root).problems
    assert any("differ from the ledger's pack line" in p for p in problems), problems
    assert any("head" in p and "differs from its seal" in p for p in problems), problems


def test_a_removed_pack_line_is_found(packed_root: Path) -> None:
    lines = (packed_root / ledger.LEDGER).read_text().splitlines()
    kept = [line for line in lines if '"type":"pack"' not in line or "navigation" not in line]
    assert len(kept) == len(lines) - 1
    (packed_root / ledger.LEDGER).write_text("\n".join(kept) + "\n")
    problems = verify(packed_root).problems
    assert any("navigation/2026-03-09: packed blocks differ" in p for p in problems), problems


def test_a_pack_interrupted_before_its_ledger_line_is_finished(tmp_path: Path) -> None:
    root = tmp_path / "j"
    _journal(root)
    conn = segment.connect(segment.segment_path(root, "nat", DAY), "nat", DAY)
    packed.pack(conn, "nat", DAY)  # then the process stops
    conn.close()
    said = pack_due(root, now=datetime(2026, 3, 12, tzinfo=UTC))
    assert "packed nat 2026-03-09: 200 records in 1 blocks" in said
    assert verify(root).ok


def test_line_encoding_round_trips() -> None:
    index = ("10.30.0.1", None, "fr.site.www.", "203.0.113.1", 40000)
    line = packed.encode(7, 123, index, '{"a":"b\\tc"}')
    assert packed.decode(line) == (7, 123, index, '{"a":"b\\tc"}')
    assert packed.key_of("nat", index) == "203.0.113.1|40000"
    assert packed.nat_key("203.0.113.1", 40000) == ("203.0.113.1|40000",) * 2
