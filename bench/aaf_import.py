"""CARINE's AAF import of a generated school against a plain baseline doing the same work bare.

    .venv/bin/python bench/aaf_import.py [--pupils 1500] [--staff 150] [--rounds 3]

AAF full files (secondary dialect, ISO-8859-15) for --pupils pupils and --staff staff are written
once; each round imports them into an empty state folder: CARINE's ``run_import`` (dry run, then
apply: analyse, prepare, argon2id for every new account, journal, change log, then a re-import
with no change), and the baseline: the same files parsed with ElementTree, the same argon2id
hasher on every core, and one plain SQLite insert per person and membership in one transaction.
Order alternates by round. The ratio printed last is the median of the per-round ratios
CARINE apply / baseline (time: lower is better; 1.0 would be no overhead over the bare work)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # our own generated files
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the repository, not bench/ siblings
    sys.path[0] = str(ROOT)

from appliance.directory import passwords  # noqa: E402
from appliance.imports.model import Settings  # noqa: E402
from appliance.imports.run import run_import  # noqa: E402
from tests.unit.imports import aafbuild as b  # noqa: E402

UAI = "0691234X"
LAST = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
        "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID"]
FIRST = ["Léa", "Noé", "Chloé", "Maël", "Zoé", "Gaëtan", "Anaïs", "Hélène", "Jérôme", "Inès",
         "Théo", "Louise", "Jules", "Emma", "Hugo", "Manon", "Éloïse", "Raphaël"]


def write(folder: Path, pupils: int, staff: int) -> list[Path]:
    classes = [f"{level}{letter}" for level in ("2", "1", "T") for letter in "ABCDEFGHIJ"]
    pupil_doc = b.document(
        b.pupil(f"{100000 + i}", LAST[i % len(LAST)], FIRST[(i // 7) % len(FIRST)], UAI,
                classes[i % len(classes)], ["EURO"] if i % 9 == 0 else [])
        for i in range(pupils))
    staff_doc = b.document(
        b.staff(f"{900000 + i}", LAST[(i * 5) % len(LAST)], FIRST[(i * 3) % len(FIRST)], UAI,
                "ENS" if i < staff * 4 // 5 else "ADF",
                classes[i % 30: i % 30 + 3] if i < staff * 4 // 5 else [])
        for i in range(staff))
    etab = b.document([b.structure(UAI, "Lycée Exemple", classes, ["EURO"])])
    paths = []
    for name, data in (("EtabEducNat", etab), ("Eleve", pupil_doc), ("PersEducNat", staff_doc)):
        path = folder / f"ENT_{UAI}_Complet_20260901_{name}_0000.xml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def baseline(paths: list[Path], db: Path) -> int:
    """The bare work: parse, hash a password per person, insert; returns the people inserted."""
    people: list[tuple[str, str, str, str]] = []
    members: list[tuple[str, str]] = []
    for path in paths:
        for _, node in ET.iterparse(path):  # noqa: S314  # our own generated files
            if node.tag != "addRequest":
                continue
            key = node.findtext("identifier/id") or ""
            attrs = {a.get("name"): [v.text or "" for v in a.findall("value")]
                     for a in node.iter("attr")}
            if "categorieStructure" in str(attrs.get("categoriePersonne")) or \
                    "ENTStructureUAI" in attrs:
                node.clear()
                continue
            people.append((key, (attrs.get("sn") or [""])[0], (attrs.get("givenName") or [""])[0],
                           f"{key}.login"))
            for name in ("ENTEleveClasses", "ENTEleveGroupes", "ENTAuxEnsClassesMatieres"):
                members += [(key, v.split("$")[1]) for v in attrs.get(name, []) if "$" in v]
            node.clear()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        hashes = list(pool.map(lambda p: passwords.hash_password(p[0] + "-Secret!9"), people))
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("CREATE TABLE person (key TEXT PRIMARY KEY, last TEXT, first TEXT, "
                         "login TEXT UNIQUE, hash TEXT)")
            conn.execute("CREATE TABLE member (key TEXT, code TEXT, PRIMARY KEY (key, code))")
            conn.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?)",
                             [(*p, h) for p, h in zip(people, hashes, strict=True)])
            conn.executemany("INSERT OR IGNORE INTO member VALUES (?, ?)", members)
    finally:
        conn.close()
    return len(people)


def carine(paths: list[Path], state: Path, settings: Settings) -> tuple[float, float, float, int]:
    """(dry run s, apply s, re-import s, accounts created)."""
    started = time.perf_counter()
    run_import(paths, state, settings, dry_run=True)
    dry = time.perf_counter() - started
    started = time.perf_counter()
    done = run_import(paths, state, settings, dry_run=False)
    apply = time.perf_counter() - started
    started = time.perf_counter()
    run_import(paths, state, settings, dry_run=False)
    again = time.perf_counter() - started
    return dry, apply, again, done.plan.count()["create"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pupils", type=int, default=1500, help="pupils (default: %(default)s)")
    p.add_argument("--staff", type=int, default=150, help="staff (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default: %(default)s)")
    args = p.parse_args(argv)
    if args.pupils < 1 or args.staff < 0 or args.rounds < 1:
        p.error("--pupils >= 1, --staff >= 0, --rounds >= 1")
    settings = Settings(uais=frozenset({UAI}), csv_uai=UAI)
    with tempfile.TemporaryDirectory(prefix="carine-bench-aaf-", dir="/var/tmp") as tmp:
        folder = Path(tmp)
        paths = write(folder, args.pupils, args.staff)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"files: {size:.1f} MB, {args.pupils:,} pupils + {args.staff:,} staff; "
              f"{os.cpu_count()} cores for argon2id in both")
        ratios = []
        for n in range(args.rounds):
            order = ("carine", "baseline") if n % 2 == 0 else ("baseline", "carine")
            for who in order:
                if who == "carine":
                    dry, apply, again, created = carine(paths, folder / f"state-{n}", settings)
                else:
                    started = time.perf_counter()
                    inserted = baseline(paths, folder / f"baseline-{n}.sqlite")
                    base = time.perf_counter() - started
            ratios.append(apply / base)
            print(f"round {n + 1}: CARINE dry run {dry:.2f} s, apply {apply:.2f} s "
                  f"({created:,} accounts created), re-import {again:.2f} s; baseline "
                  f"{base:.2f} s ({inserted:,} people inserted); ratio {apply / base:.2f}")
        print(f"RATIO CARINE apply / baseline (parse + argon2id + plain SQLite insert), median "
              f"of {args.rounds} per-round ratios: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
