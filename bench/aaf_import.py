"""Time to import a generated lycée: 1,500 pupils and 150 staff in AAF full files (secondary
dialect, ISO-8859-15), into an empty state folder: dry run (analyse + prepare) beside the apply
(with argon2id for every new account, the journal and the change log), then a re-import.

Run: PYTHONPATH=. .venv/bin/python bench/aaf_import.py   (prints the ratio apply/dry-run last)"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.imports.model import Settings
from appliance.imports.run import run_import
from tests.unit.imports import aafbuild as b

UAI = "0691234X"
LAST = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
        "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID"]
FIRST = ["Léa", "Noé", "Chloé", "Maël", "Zoé", "Gaëtan", "Anaïs", "Hélène", "Jérôme", "Inès",
         "Théo", "Louise", "Jules", "Emma", "Hugo", "Manon", "Éloïse", "Raphaël"]


def write(folder: Path) -> list[Path]:
    classes = [f"{level}{letter}" for level in ("2", "1", "T") for letter in "ABCDEFGHIJ"]
    pupils = b.document(
        b.pupil(f"{100000 + i}", LAST[i % len(LAST)], FIRST[(i // 7) % len(FIRST)], UAI,
                classes[i % len(classes)], ["EURO"] if i % 9 == 0 else [])
        for i in range(1500))
    staff = b.document(
        b.staff(f"{900000 + i}", LAST[(i * 5) % len(LAST)], FIRST[(i * 3) % len(FIRST)], UAI,
                "ENS" if i < 120 else "ADF", classes[i % 30: i % 30 + 3] if i < 120 else [])
        for i in range(150))
    etab = b.document([b.structure(UAI, "Lycée Exemple", classes, ["EURO"])])
    paths = []
    for name, data in (("EtabEducNat", etab), ("Eleve", pupils), ("PersEducNat", staff)):
        path = folder / f"ENT_{UAI}_Complet_20260901_{name}_0000.xml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> int:
    settings = Settings(uais=frozenset({UAI}), csv_uai=UAI)
    with tempfile.TemporaryDirectory(prefix="carine-bench-") as tmp:
        folder = Path(tmp)
        paths = write(folder)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"files: {size:.1f} MB, 1,500 pupils + 150 staff")
        state = folder / "state"
        started = time.perf_counter()
        dry = run_import(paths, state, settings, dry_run=True)
        dry_s = time.perf_counter() - started
        print(f"dry run (analyse + prepare): {dry_s:.2f} s, {dry.plan.count()}")
        started = time.perf_counter()
        done = run_import(paths, state, settings, dry_run=False)
        apply_s = time.perf_counter() - started
        print(f"apply (first import):        {apply_s:.2f} s, {done.plan.count()['create']} "
              "accounts created")
        started = time.perf_counter()
        again = run_import(paths, state, settings, dry_run=False)
        again_s = time.perf_counter() - started
        print(f"re-import (no change):       {again_s:.2f} s, "
              f"{again.plan.count()['noop']} no-op")
        print(f"ratio apply/dry-run: {apply_s / dry_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
