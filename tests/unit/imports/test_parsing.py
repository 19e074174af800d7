"""Parsing: both AAF dialects, profiles from functions, parents skipped, CSV encodings and
separators, and every hostile or broken file refused with its code and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.imports.aaf_xml import parse_aaf
from appliance.imports.analyse import analyse
from appliance.imports.codes import ImportRefused
from appliance.imports.csv_format import parse_csv
from appliance.imports.model import Settings, parse_date
from appliance.imports.source import decode_text, read_limited
from tests.unit.imports import aafbuild as b
from tests.unit.imports.conftest import AAF, CLG, CSV, SETTINGS, complet

pytestmark = pytest.mark.unit


def test_secondary_full_export_gives_pupils_teachers_staff_classes_and_skips_parents() -> None:
    a = analyse(complet(), SETTINGS)
    assert not a.blocking
    by_key = {p.key: p for p in a.people}
    assert len(by_key) == 18  # 12 pupils, 6 staff; the 2 parents are skipped
    assert [i.code for i in a.issues].count("IMP-014") == 2
    lea = by_key["E1001"]
    assert (lea.last_name, lea.first_name, lea.profile) == ("MARTIN", "Léa", "eleve")
    assert (lea.classes, lea.groups, lea.birth_date, lea.uai) == (("6A",), ("LATIN",),
                                                                  "2013-03-14", CLG)
    assert by_key["E1008"].first_name == "Œlian"  # ISO-8859-15 only: 0xBC
    assert by_key["P2001"].profile == "enseignant" and by_key["P2001"].classes == ("6A", "5A")
    assert by_key["P2003"].profile == "enseignant"  # DOC: documentaliste
    assert {by_key[k].profile for k in ("P2004", "P2005", "P2006")} == {"personnel"}
    assert a.structures[CLG].labels["6A"] == "6A libellé"
    assert a.scopes == {("aaf", "Eleve", CLG), ("aaf", "PersEducNat", CLG)}
    assert all(f.full and f.dialect == "2d" for f in a.files)


def test_primary_1d_dialect() -> None:
    a = analyse(complet("0690001A"), Settings(uais=frozenset({"0690001A"})))
    assert not a.blocking
    by_key = {p.key: p for p in a.people}
    assert (by_key["1D5002"].last_name, by_key["1D5002"].classes) == ("BONNET", ("CE1-CE2",))
    assert by_key["1D6002"].profile == "enseignant"
    assert by_key["1D6002"].classes == ("CE1-CE2", "CM2")
    assert {f.dialect for f in a.files if "Eleve" in f.name} == {"1d"}


def test_delta_is_read_as_modifications_and_a_deletion() -> None:
    a = analyse(sorted(AAF.glob("*_Delta_*.xml")), SETTINGS)
    ops = {p.key: p.op for p in a.people}
    assert ops == {"E1013": "add", "E1005": "modify", "E1011": "delete"}
    modified = next(p for p in a.people if p.key == "E1005")
    assert modified.classes == ("6A",) and modified.last_name is None  # unchanged
    assert not a.scopes  # a delta deactivates nobody by absence


@pytest.mark.parametrize(("name", "code", "line"), [
    ("billion_laughs.xml", "IMP-103", 3),
    ("external_entity.xml", "IMP-103", 3),
    ("wrong_encoding.xml", "IMP-104", None),
    ("truncated.xml", "IMP-102", 20),
    ("garbage.xml", "IMP-104", None),
    ("not_aaf.xml", "IMP-105", 2),
])
def test_hostile_files_are_refused_with_code_and_line(name: str, code: str,
                                                       line: int | None) -> None:
    path = AAF / "hostile" / name
    with pytest.raises(ImportRefused) as caught:
        analyse([path], SETTINGS)
    assert caught.value.code == code
    assert caught.value.line == line
    assert str(path) in caught.value.message and "nothing was changed" in caught.value.message


def test_a_file_above_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "ENT_Complet_Eleve.xml"
    with huge.open("wb") as handle:  # 100 MB of nothing, sparse: costs no disk
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(ImportRefused) as caught:
        read_limited(huge)
    assert caught.value.code == "IMP-101" and "100.0 MB" in caught.value.message


def test_latin9_bytes_in_a_file_declared_utf8_point_at_the_line() -> None:
    data = b.document([b.pupil("E1", "MÉNARD", "Zoé", CLG, "6A")])
    with pytest.raises(ImportRefused) as caught:
        parse_aaf("x.xml", data.replace(b"ISO-8859-15", b"UTF-8"))
    assert caught.value.code == "IMP-102" and caught.value.line == 9
    assert "encoding" in caught.value.message


def test_record_errors_carry_codes_lines_and_keys() -> None:
    data = b.document([
        b.request("add", "Eleve", "", [("sn", ["A"]), ("givenName", ["B"])]),
        b.pupil("E2", "", "Zoé", CLG, "6A"),
        b.pupil("E3", "X", "Y", CLG, "6A", birth="31/02/2013"),
        b.pupil("E4", "X", "Y", CLG, "6A<script>"),
        b.request("add", "Martien", "E5", [("sn", ["A"])]),
        b.pupil("E6", "X", "Y", "0999999Z", "6A"),
    ])
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "ENT_X_Complet_Eleve.xml"
        path.write_bytes(data)
        a = analyse([path], SETTINGS)
    codes = [(i.code, i.key) for i in a.issues if i.code != "IMP-015"]
    assert codes == [("IMP-001", None), ("IMP-005", "E2"), ("IMP-004", "E3"),
                     ("IMP-009", "E4"), ("IMP-007", "E5"), ("IMP-013", "E6")]
    assert all(i.line for i in a.issues if i.code != "IMP-015")
    assert not a.people or [p.key for p in a.people] == []


def test_duplicate_key_across_files_is_an_error(tmp_path: Path) -> None:
    one, two = tmp_path / "ENT_a_Complet_Eleve_0000.xml", tmp_path / "ENT_a_Complet_Eleve_0001.xml"
    one.write_bytes(b.document([b.pupil("E1", "A", "B", CLG, "6A")]))
    two.write_bytes(b.document([b.pupil("E1", "A", "B", CLG, "6B")]))
    a = analyse([one, two], SETTINGS)
    assert [(i.code, i.key, i.line) for i in a.blocking] == [("IMP-003", "E1", 4)]


def test_csv_windows_1252_and_utf8_with_bom() -> None:
    people, issues, enc = parse_csv("e.csv", (CSV / "ecole-cp1252.csv").read_bytes(), SETTINGS)
    assert (enc, issues) == ("cp1252", [])
    assert [(p.key, p.last_name, p.profile, p.classes, p.groups) for p in people][:2] == [
        ("C001", "Lefèvre", "eleve", ("CM1",), ("chorale", "théâtre")),
        ("C002", "Nguyen", "eleve", ("CM1",), ())]
    assert people[3].last_name == "Cœur" and people[1].birth_date == "2016-09-21"
    people, issues, enc = parse_csv("p.csv", (CSV / "personnels-utf8.csv").read_bytes(),
                                    SETTINGS)
    assert enc == "utf-8" and people[0].first_name == "João" and people[1].profile == "invite"


def test_csv_latin9_detection_and_bad_lines() -> None:
    text, enc = decode_text("x", "Cœur;Ÿ".encode("iso-8859-15"))
    assert (text, enc) == ("Cœur;Ÿ", "iso-8859-15")
    data = (b"identifiant;nom;prenom;profil;classe\nA1;X;Y;pirate;6A\nA2;X;Y;eleve;6A\n"
            b";X;Y;eleve;\n")
    people, issues, _ = parse_csv("x.csv", data, SETTINGS)
    assert [(i.code, i.line) for i in issues] == [("IMP-002", 2), ("IMP-001", 4)]
    assert [p.key for p in people] == ["A2"]


def test_csv_header_problems_are_refused() -> None:
    with pytest.raises(ImportRefused) as caught:
        parse_csv("x.csv", b"id;nom;prenom\n1;a;b\n", SETTINGS)
    assert caught.value.code == "IMP-106"
    assert "identifiant" in caught.value.message and "profil" in caught.value.message


def test_dates() -> None:
    assert parse_date("01/09/2014") == "2014-09-01"
    assert parse_date("2014-09-01") == "2014-09-01"
    assert parse_date("29/02/2013") is None and parse_date("1/1/1800") is None
