"""Property tests: any set of pupils imports, re-imports as a no-op with the same logins, and a
full file without some of them deactivates exactly those; random bytes never get past analysis
as anything but a clear refusal."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.imports.analyse import analyse
from appliance.imports.codes import ImportRefused
from appliance.imports.run import run_import
from tests.unit.imports import aafbuild as b
from tests.unit.imports.conftest import CLG, NOW, SETTINGS
from tests.unit.imports.test_phases import logins_by_key

pytestmark = pytest.mark.unit
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçœÉÈŒ -'", min_size=1, max_size=20) \
    .filter(lambda s: s.strip())
PUPILS = st.dictionaries(st.from_regex(r"[0-9]{6}", fullmatch=True),
                         st.tuples(NAME, NAME, st.sampled_from(["6A", "6B", "5A"])),
                         min_size=1, max_size=25)


def write(folder: Path, pupils: dict[str, tuple[str, str, str]]) -> Path:
    path = folder / "ENT_0691234X_Complet_20260901_Eleve_0000.xml"
    path.write_bytes(b.document(b.pupil(k, last, first, CLG, c)
                                for k, (last, first, c) in pupils.items()))
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pupils=PUPILS, leaving=st.sets(st.integers(0, 24)))
def test_reimport_is_a_noop_and_absence_deactivates_exactly_the_absent(
        pupils: dict[str, tuple[str, str, str]], leaving: set[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state = folder / "state"
        run_import([write(folder, pupils)], state, SETTINGS, dry_run=False, now=NOW)
        first = logins_by_key(state)
        assert len({login for login, _, _ in first.values()}) == len(pupils)  # unique
        again = run_import([write(folder, pupils)], state, SETTINGS, dry_run=False, now=NOW + 1)
        assert again.plan.applicable() == []
        keys = sorted(pupils)
        gone = {keys[i] for i in leaving if i < len(keys)}
        kept = {k: v for k, v in pupils.items() if k not in gone}
        if kept:
            run_import([write(folder, kept)], state, SETTINGS, dry_run=False, now=NOW + 2,
                       force=True)
            after = logins_by_key(state)
            assert {k for k, v in after.items() if v[1] == "deactivated"} == gone
            assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in first.items()}


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_refused_clearly_or_read(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xml"
        path.write_bytes(b"<?xml version='1.0'?><ficAlimMENESR>" + data)
        try:
            analyse([path], SETTINGS)
        except ImportRefused as exc:
            assert exc.code.startswith("IMP-1") and str(path) in exc.message
