"""The synthetic tree: the real lists plus made-up domains of realistic shape, reproducible."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from appliance.errors import CarineError
from filtering.names import normalise_domain
from filtering.synthetic import TLDS, synthesise, synthetic_domain
from tests.unit.filtering.conftest import write_tree

pytestmark = pytest.mark.unit


@pytest.fixture
def real(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "real", {
        "games": {"domains": "a.fr\nb.fr\n# comment\n\n", "urls": "c.fr/x\n"},
        "adult": {"urls": "d.fr/x\n"}})


def test_adds_up_to_the_total_in_the_category(real: Path, tmp_path: Path) -> None:
    done = synthesise(real, tmp_path / "out", 1000)
    assert (done.real, done.added, done.category) == (2, 998, "adult")
    names = (tmp_path / "out/blacklists/adult/domains").read_text().splitlines()
    assert len(names) == len(set(names)) == 998
    assert (tmp_path / "out/blacklists/games/domains").read_text() == "a.fr\nb.fr\n# comment\n\n"
    assert (tmp_path / "out/blacklists/adult/urls").read_text() == "d.fr/x\n"


def test_same_seed_same_tree(real: Path, tmp_path: Path) -> None:
    synthesise(real, tmp_path / "one", 500, seed=3)
    synthesise(real, tmp_path / "two", 500, seed=3)
    synthesise(real, tmp_path / "three", 500, seed=4)
    one, two, three = ((tmp_path / n / "blacklists/adult/domains").read_text()
                       for n in ("one", "two", "three"))
    assert one == two != three


def test_names_look_real() -> None:
    rng = random.Random(1)
    names = [synthetic_domain(rng) for _ in range(5000)]
    assert all(normalise_domain(n) == n for n in names)
    tlds = {n.rsplit(".", 1)[1] for n in names}
    assert {"com", "fr", "net"} <= tlds <= {t.rsplit(".", 1)[-1] for t in TLDS}
    assert 0.05 < sum(n.count(".") > 1 and not n.endswith((".co.uk", ".com.br"))
                      for n in names) / len(names) < 0.4  # some subdomains


def test_appends_to_an_existing_list_without_merging_lines(tmp_path: Path) -> None:
    real = write_tree(tmp_path / "real", {"adult": {"domains": "x.fr"}})  # no final newline
    synthesise(real, tmp_path / "out", 3)
    lines = (tmp_path / "out/blacklists/adult/domains").read_text().splitlines()
    assert lines[0] == "x.fr" and len(lines) == 3


def test_refuses_a_non_empty_output(real: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(CarineError, match="not empty"):
        synthesise(real, tmp_path / "busy", 10)


def test_fewer_than_the_real_ones_adds_none(real: Path, tmp_path: Path) -> None:
    assert synthesise(real, tmp_path / "out", 1).added == 0
