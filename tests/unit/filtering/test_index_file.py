"""The index file: versioned and checksummed, refused with a clear message when damaged, written
atomically, and mapped (not read) so that every helper process shares the same pages."""

from __future__ import annotations

import json
import mmap
import os
import struct
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.errors import CarineError
from appliance.run import run
from filtering.index import Index, compile_lists
from filtering.indexfile import ALIGN, MAGIC, PREFIX
from tests.unit.filtering.conftest import write_tree

pytestmark = pytest.mark.unit


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    lists = write_tree(tmp_path / "lists", {
        "games": {"domains": "example.com\njeux.fr\n", "urls": "site.fr/jeux\n"},
        "adult": {"domains": "x.example.net\n", "expressions": "/sexe/\n"}})
    out = tmp_path / "index.cidx"
    compile_lists(lists, out, source="unit test")
    return out


def _refused(path: Path, message: str) -> CarineError:
    with pytest.raises(CarineError, match=message) as caught:
        Index.open(path)
    assert caught.value.hint, "every refusal says what to do"
    return caught.value


def test_layout(index_path: Path) -> None:
    data = index_path.read_bytes()
    magic, version, length = PREFIX.unpack_from(data)
    assert (magic, version) == (MAGIC, 2)
    assert (PREFIX.size + length) % ALIGN == 0
    header = json.loads(data[PREFIX.size:PREFIX.size + length])
    assert header["source"] == "unit test"
    assert header["data_length"] == len(data) - PREFIX.size - length
    for offset, _length in header["sections"].values():
        assert offset % ALIGN == 0
    with Index.open(index_path) as index:
        assert index.meta["sha256"] == header["sha256"]
        assert index.lookup("www.example.com") == {"games"}


def test_missing(tmp_path: Path) -> None:
    error = _refused(tmp_path / "none.cidx", "does not exist")
    assert "carine filter compile" in (error.hint or "")


def test_checksum_mismatch(index_path: Path) -> None:
    data = bytearray(index_path.read_bytes())
    data[-3] ^= 0x40
    index_path.write_bytes(data)
    _refused(index_path, r"is corrupt: checksum mismatch")


@pytest.mark.parametrize("keep", [0, 5, PREFIX.size, PREFIX.size + 10, -1])
def test_truncated(index_path: Path, keep: int) -> None:
    data = index_path.read_bytes()
    index_path.write_bytes(data[:keep] if keep >= 0 else data[:len(data) - 100])
    _refused(index_path, r"is corrupt: truncated")


def test_wrong_magic(index_path: Path) -> None:
    data = index_path.read_bytes()
    index_path.write_bytes(b"SQUIDGRD" + data[8:])
    _refused(index_path, "is not a CARINE index")


def test_wrong_version(index_path: Path) -> None:
    data = bytearray(index_path.read_bytes())
    struct.pack_into("<I", data, 8, 99)
    index_path.write_bytes(data)
    error = _refused(index_path, "has format version 99; this CARINE reads version 2")
    assert "compile it again" in (error.hint or "")


def test_unreadable_header(index_path: Path) -> None:
    data = bytearray(index_path.read_bytes())
    data[PREFIX.size] = ord("[")
    index_path.write_bytes(data)
    _refused(index_path, "is corrupt: unreadable header")


def test_atomic_write_keeps_the_old_index(index_path: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = index_path.read_bytes()
    lists = write_tree(tmp_path / "new", {"games": {"domains": "other.fr\n"}})

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # fails after the data is written, before rename
    with pytest.raises(CarineError, match=r"cannot write index .*: No space left") as caught:
        compile_lists(lists, index_path)
    assert "untouched" in (caught.value.hint or "")
    monkeypatch.undo()
    assert index_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["index.cidx"]
    with Index.open(index_path) as index:
        assert index.lookup("example.com") == {"games"}


def test_unwritable_destination(index_path: Path, tmp_path: Path) -> None:
    lists = write_tree(tmp_path / "new", {"games": {"domains": "other.fr\n"}})
    with pytest.raises(CarineError, match="cannot write index"):
        compile_lists(lists, tmp_path)  # a directory


def test_readers_keep_their_index_across_a_recompile(index_path: Path, tmp_path: Path) -> None:
    with Index.open(index_path) as old:
        assert not old.changed()
        lists = write_tree(tmp_path / "new", {"games": {"domains": "other.fr\n"}})
        compile_lists(lists, index_path)
        assert old.changed()  # a helper sees it has to reopen...
        assert old.lookup("example.com") == {"games"}  # ...and answers from the old one meanwhile
    with Index.open(index_path) as new:
        assert new.lookup("example.com") == frozenset()
        assert new.lookup("other.fr") == {"games"}


def _index_mappings(path: Path, pid: str = "self") -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return [line for line in maps if line.endswith(str(path))]


def test_tries_are_mapped_from_the_file_not_copied(index_path: Path) -> None:
    with Index.open(index_path) as index:
        assert isinstance(index._mapped.map, mmap.mmap)
        assert _index_mappings(index_path), "the index file is mapped into the process"
        # The tries and the set arrays hold views of the map: it cannot be closed under them.
        with pytest.raises(BufferError):
            index._mapped.map.close()
        assert index._domain_sets[0].obj is index._mapped.map
    assert not _index_mappings(index_path), "close() unmaps it"


def test_two_processes_map_the_same_index(index_path: Path) -> None:
    child = textwrap.dedent(f"""
        from pathlib import Path
        from filtering.index import Index
        index = Index.open(Path({str(index_path)!r}))
        maps = Path("/proc/self/maps").read_text()
        print(sorted(index.lookup("www.example.com")), {str(index_path)!r} in maps)
    """)
    with Index.open(index_path) as index:
        assert _index_mappings(index_path)
        result = run([sys.executable, "-c", child], cwd=Path(__file__).parents[3])
        assert result.stdout.split("\n")[0] == "['games'] True"
        assert index.lookup("www.example.com") == {"games"}
