"""Reading a UT1 tree: every line counted (entries, comments, blank, malformed with examples),
bad lines skipped and never fatal, category folders and aliases found, non-trees refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from filtering.lists import ListsInvalid, find_tree, read_lists
from tests.unit.filtering.conftest import write_tree

pytestmark = pytest.mark.unit


def test_counts_every_kind_of_line(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {
        "games": {
            "domains": b"# games\n\nexample.com\r\nbad domain.com\n\xff\xfe.com\n  \nEXAMPLE.org\n",
            "urls": "# urls\nexample.net/jeux\nnot a url/x\n",
            "expressions": "(unclosed\n/jeux/\n",
            "usage": "black\n",
        },
    })
    read = read_lists(lists)
    files = read.report.categories["games"]
    domains = files["domains"]
    assert (domains.entries, domains.comments, domains.blank, domains.malformed) == (2, 1, 2, 2)
    assert [(n, why) for _, n, _, why in domains.examples] == [
        (4, "not a domain name"), (5, "undecodable bytes (not UTF-8)")]
    assert (files["urls"].entries, files["urls"].comments, files["urls"].malformed) == (1, 1, 1)
    assert (files["expressions"].entries, files["expressions"].malformed) == (1, 1)
    assert "not a regular expression" in files["expressions"].examples[0][3]
    assert set(read.domains) == {"com.example.", "org.example."}
    assert set(read.urls) == {"example.net/jeux"}
    assert read.expressions == {"games": ["/jeux/"]}
    assert read.report.entries == 4
    assert read.report.malformed == 4


def test_examples_are_few_but_every_line_is_counted(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {"x": {"domains": "bad line\n" * 50 + "ok.fr\n"}})
    report = read_lists(lists).report
    assert report.total("domains").malformed == 50
    assert len(report.total("domains").examples) == 3
    text = report.summary()
    assert "x/domains:1: 'bad line': not a domain name" in text
    assert "malformed" in text


def test_same_entry_in_two_categories_holds_both(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {"a": {"domains": "shared.fr\nonly-a.fr\n"},
                                  "b": {"domains": "shared.fr\n", "urls": "shared.fr/x\n"},
                                  "c": {"urls": "www.shared.fr/x\n"}})
    read = read_lists(lists)
    cats = read.categories

    def names(set_id: int) -> set[str]:
        return {cats[i] for i in read.sets.sets[set_id]}

    assert names(read.domains["fr.shared."]) == {"a", "b"}
    assert names(read.domains["fr.only-a."]) == {"a"}
    assert names(read.urls["shared.fr/x"]) == {"b", "c"}


def test_tree_found_at_top_or_in_blacklists(tmp_path: Path) -> None:
    write_tree(tmp_path / "one", {"games": {"domains": "a.fr\n"}})
    assert find_tree(tmp_path / "one") == tmp_path / "one" / "blacklists"
    assert find_tree(tmp_path / "one" / "blacklists") == tmp_path / "one" / "blacklists"


def test_aliases_from_symlinks_and_from_files(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {"adult": {"domains": "a.fr\n"}, "agressif": {"urls": "b.fr/x\n"}})
    root = lists / "blacklists"
    (root / "porn").symlink_to("adult")  # as UT1 publishes it
    (root / "violence").write_text("agressif")  # as an archive without symlinks keeps it
    (root / "global_usage").write_text("# NAME: adult\n" * 20)  # not an alias: a big file
    (root / "README").write_text("")
    read = read_lists(lists)
    assert read.categories == ["adult", "agressif"]
    assert read.report.aliases == {"porn": "adult", "violence": "agressif"}


@pytest.mark.parametrize("tree", [
    {},  # an empty folder
    {"games": {"usage": "black\n"}},  # folders without a list file
])
def test_not_a_ut1_tree(tmp_path: Path, tree: dict[str, dict[str, str | bytes]]) -> None:
    write_tree(tmp_path, tree)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ListsInvalid, match="is not a UT1 tree") as caught:
        read_lists(tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.hint


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ListsInvalid, match="no such directory"):
        read_lists(tmp_path / "nowhere")


def test_nothing_usable(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {"games": {"domains": "# only comments\nnot a domain\n\n"}})
    with pytest.raises(ListsInvalid, match=r"no usable entry in 1 categories \(1 malformed"):
        read_lists(lists)


def test_per_category_summary(tmp_path: Path) -> None:
    lists = write_tree(tmp_path, {"games": {"domains": "a.fr\nb.fr\n", "urls": "c.fr/x\n"},
                                  "vpn": {"domains": "d.fr\n"}})
    text = read_lists(lists, source="test lists").report.summary(per_category=True)
    assert text.startswith("test lists: 2 categories")
    games = next(line for line in text.splitlines() if line.strip().startswith("games"))
    assert games.split() == ["games", "2", "1", "0", "0"]
