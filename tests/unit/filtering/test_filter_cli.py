"""``carine filter compile|lookup|synth`` as a technician meets them: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from tests.unit.filtering.conftest import write_tree

pytestmark = pytest.mark.unit


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "lists", {
        "games": {"domains": "example.com\nnot a domain\n", "urls": "site.fr/jeux\n"},
        "adult": {"expressions": "/sexe/\n"}})


def test_compile_then_lookup(lists: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index.cidx"
    assert main(["filter", "compile", "--lists", str(lists), "--out", str(index)]) == 0
    out, err = capsys.readouterr()
    assert "2 categories" in out
    assert "games/domains:2: 'not a domain': not a domain name" in out
    assert f"compiled {index} in " in out
    assert err == ""
    targets = ["www.example.com", "https://site.fr/jeux/x", "http://Site.FR:8080/jeux",
               "example.org/sexe/", "www.education.gouv.fr", "site.fr"]
    assert main(["filter", "lookup", "--index", str(index), *targets]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        "www.example.com games", "https://site.fr/jeux/x games", "http://Site.FR:8080/jeux games",
        "example.org/sexe/ adult", "www.education.gouv.fr -", "site.fr -"]


def test_compile_per_category(lists: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "i.cidx"
    assert main(["filter", "compile", "--lists", str(lists), "--out", str(out_path),
                 "--per-category"]) == 0
    assert any(line.split()[:2] == ["games", "1"] for line in capsys.readouterr().out.splitlines())


def test_compile_refuses_what_is_not_a_tree(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "index.cidx"
    assert main(["filter", "compile", "--lists", str(tmp_path / "empty"), "--out", str(out)]) == 2
    _, err = capsys.readouterr()
    assert "is not a UT1 tree" in err and "hint:" in err
    assert not out.exists()


def test_compile_refuses_lists_with_nothing_usable(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lists = write_tree(tmp_path / "bad", {"games": {"domains": "not a domain\n"}})
    assert main(["filter", "compile", "--lists", str(lists), "--out",
                 str(tmp_path / "i.cidx")]) == 2
    assert "no usable entry" in capsys.readouterr().err


def test_lookup_without_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "lookup", "--index", str(tmp_path / "none"), "example.com"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "carine filter compile" in err


def test_lookup_of_a_bad_url(lists: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index.cidx"
    main(["filter", "compile", "--lists", str(lists), "--out", str(index)])
    capsys.readouterr()
    assert main(["filter", "lookup", "--index", str(index), "http://[::1/x"]) == 1
    assert "is not a URL" in capsys.readouterr().err


def test_synth(lists: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    assert main(["filter", "synth", "--lists", str(lists), "--out", str(out),
                 "--domains", "1k"]) == 0
    assert "2 real domain lines + 998 synthetic in adult = 1,000" in capsys.readouterr().out
    assert main(["filter", "compile", "--lists", str(out), "--out",
                 str(tmp_path / "s.cidx")]) == 0
    assert "999 distinct domains" in capsys.readouterr().out  # one real line is malformed
