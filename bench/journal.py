"""The legal journal: sustained ingestion (chained + indexed) against plain appending of the same
JSON lines, then the judicial queries on a store of two busy lycée days, and disk per year.

    .venv/bin/python bench/journal.py            # 2 x 3M navigation records (~15 min)
    .venv/bin/python bench/journal.py --quick    # 2 x 200k, fewer queries (~1 min)

Hosts come from the UT1 subset through bench/trace.py's pool (Zipf-ranked, popular hosts first);
1,500 devices, each a user with two or three sessions a day; NAT records for the direct flows.
The questions are asked of the rows as ingested, then of the same days packed (zstd blocks,
appliance/journal/packed.py), which is the baseline side by side; the ratio of bytes per record
is printed last."""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[0] = str(ROOT)

from appliance.journal import Journal, query, squidlog  # noqa: E402
from appliance.journal.records import canonical  # noqa: E402
from appliance.journal.seal import pack_due, seal_due  # noqa: E402
from appliance.journal.verify import verify  # noqa: E402
from bench.common import table  # noqa: E402
from bench.trace import ZIPF_S, build_pool  # noqa: E402
from filtering.archive import unpack  # noqa: E402
from filtering.lists import find_tree  # noqa: E402

LISTS = ROOT.parent / "shared" / "data" / "ut1-subset.tar.xz"
DAYS = (date(2026, 3, 9), date(2026, 3, 10))
DEVICES = 1500
NET = ipaddress.IPv4Network("10.30.0.0/21")
PUBLIC = "203.0.113.10"
PARIS = ZoneInfo("Europe/Paris")
SCHOOL_DAYS = 180
# DOMAIN.md's sizes, pupils plus about 10 % staff, as devices: an école of 300, a collège of 460,
# a lycée of 810 (and the design peak: a lycée of 1,500 devices).
SCHOOLS = (("école (300 pupils)", 330), ("collège (460 pupils)", 510),
           ("lycée (810 pupils)", 890), ("lycée, design peak", 1500))
BATCH = 100_000  # lines per transaction when catching up: fewer index pages per record


def ip_of(n: int) -> str:
    return str(NET.network_address + 10 + n)


def squid_lines(day: date, count: int, hosts: list[str], rng: random.Random) -> list[str]:
    """``count`` access-log lines in CARINE's logformat over the school day (07:30-18:00)."""
    start = datetime.combine(day, datetime.min.time(), PARIS).replace(hour=7, minute=30)
    t0, span = start.timestamp(), 10.5 * 3600
    cum = list(itertools.accumulate(1.0 / (r + 1) ** ZIPF_S for r in range(len(hosts))))
    picks = rng.choices(hosts, cum_weights=cum, k=count)
    stamps = sorted(t0 + rng.random() * span for _ in range(count))
    out = []
    for t, host in zip(stamps, picks, strict=True):
        n = rng.randrange(DEVICES)
        decision = "allow" if rng.random() < 0.97 else "block"
        out.append(f"{t:.3f} {ip_of(n)} 02:00:00:{n >> 16:02x}:{(n >> 8) & 255:02x}:{n & 255:02x} "
                   f"u{n:04d} TCP_TUNNEL/200 CONNECT {host}:443 {host} 198.18.0.10 "
                   f"{rng.randrange(200, 900000)} - {decision} eleve -\n")
    return out


def ingest(lines: list[str], journal: Journal | None, plain: Path | None) -> float:
    """Records/s through the real path: parse each line, then chain+index, or plain append."""
    began = time.perf_counter()
    out = plain.open("a", encoding="utf-8") if plain else None
    for i in range(0, len(lines), BATCH):
        rows, _ = squidlog.parse_lines(lines[i:i + BATCH])
        if journal is not None:
            journal.append_micros("navigation", rows)
        elif out is not None:
            out.write("".join(f'{{"at":{at},"body":{body}}}\n' for at, body, _ in rows))
            out.flush()
    if out is not None:
        out.close()
    return len(lines) / (time.perf_counter() - began)


def sessions(journal: Journal, day: date, rng: random.Random) -> list[tuple[str, datetime]]:
    """Two or three sessions per device over the day; returns (ip, time) probes inside them."""
    probes = []
    for n in range(DEVICES):
        t = datetime.combine(day, datetime.min.time(), PARIS).replace(hour=7, minute=45)
        for _ in range(rng.choice((2, 3))):
            t += timedelta(minutes=rng.randrange(5, 60))
            end = t + timedelta(minutes=rng.randrange(30, 180))
            base = {"method": "portal", "login": f"u{n:04d}", "profile": "eleve",
                    "ip": ip_of(n), "mac": "02:00:00:00:00:01", "zone": "pedago"}
            journal.append("session", {**base, "event": "start"}, at=t.astimezone(UTC))
            journal.append("session", {**base, "event": "end"}, at=end.astimezone(UTC))
            probes.append((ip_of(n), (t + (end - t) / 2).astimezone(UTC)))
            t = end
    return probes


def nat(journal: Journal, day: date, count: int, rng: random.Random) -> list[tuple[int, datetime]]:
    start = datetime.combine(day, datetime.min.time(), PARIS).replace(hour=7, minute=30)
    rows, probes = [], []
    for i in range(count):
        t = (start + timedelta(seconds=rng.random() * 37800)).astimezone(UTC)
        port = 1024 + i % 64000
        n = rng.randrange(DEVICES)
        body = canonical({"ip": ip_of(n), "port_in": rng.randrange(32768, 61000),
                          "dst": "198.18.0.53", "dport": 53, "proto": "udp",
                          "pub_ip": PUBLIC, "pub_port": port})
        rows.append((int(t.timestamp() * 1e6), body, (ip_of(n), None, None, PUBLIC, port)))
        if i % 1000 == 0:
            probes.append((port, t + timedelta(seconds=1)))
    rows.sort()
    for i in range(0, len(rows), BATCH):
        journal.append_micros("nat", rows[i:i + BATCH])
    return probes


def disk(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def questions(root: Path, probes: list[tuple[str, datetime]],
              nat_probes: list[tuple[int, datetime]], hosts: list[str], count: int,
              seed: float) -> dict[str, Any]:
    """The judicial questions, timed: the same ones for a given ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data must repeat
    out: dict[str, Any] = {"ip": [], "nat": [], "host": [], "wrong": 0, "biggest": 0,
                           "answers": []}
    for ip, at in rng.sample(probes, min(count, len(probes))):
        began = time.perf_counter()
        found = query.who_had(root, ip, at)
        out["ip"].append(time.perf_counter() - began)
        out["answers"].append(found)
        out["wrong"] += not (found and found[0]["session"]["holds"]
                             and found[0]["session"]["ip"] == ip)
    for port, at in rng.sample(nat_probes, min(count // 2, len(nat_probes))):
        began = time.perf_counter()
        found = query.who_had(root, PUBLIC, at, port)
        out["nat"].append(time.perf_counter() - began)
        out["answers"].append(found)
        out["wrong"] += not found
    weights = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(hosts))))
    asked = rng.choices(hosts, cum_weights=weights, k=count // 5)
    asked[0] = hosts[0]  # the busiest host (www.google.com) is always asked
    for host in asked:
        began = time.perf_counter()
        rows = query.visited(root, host, DAYS[1])
        out["host"].append(time.perf_counter() - began)
        out["answers"].append(rows)
        out["biggest"] = max(out["biggest"], sum(r["requests"] for r in rows))
    return out


def _pair(a: dict[str, Any], b: dict[str, Any], key: str) -> tuple[str, str]:
    return "/".join(timings(a[key])), "/".join(timings(b[key]))


def timings(fn: list[float]) -> tuple[str, str, str]:
    ms = sorted(x * 1000 for x in fn)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{statistics.median(ms):.1f}", f"{p99:.1f}", f"{ms[-1]:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--per-day", type=int, default=3_000_000)
    p.add_argument("--nat-per-day", type=int, default=300_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        args.per_day, args.nat_per_day, args.queries = 200_000, 20_000, 200
    rng = random.Random(args.seed)  # noqa: S311 - benchmark data must repeat
    work = Path(tempfile.mkdtemp(prefix="carine-bench-journal-", dir="/var/tmp"))
    try:
        tree = find_tree(unpack(LISTS, work / "ut1"))
        hosts = list(dict.fromkeys(t.host for t in build_pool(tree, 200_000, rng)))
        print(f"hosts: {len(hosts):,} distinct (UT1 subset, Zipf s={ZIPF_S})", flush=True)
        journal = Journal.open(work / "journal", bulk=True)
        rates: dict[str, list[float]] = {"journal": [], "plain": []}
        for day in DAYS:
            lines = squid_lines(day, args.per_day, hosts, rng)
            half = len(lines) // 2
            # Alternate which goes first; the journal gets every line, the baseline as many.
            rates["plain"].append(ingest(lines[:half], None, work / "plain.jsonl"))
            rates["journal"].append(ingest(lines, journal, None))
            rates["plain"].append(ingest(lines[half:], None, work / "plain.jsonl"))
            print(f"{day}: {len(lines):,} navigation records in", flush=True)
            del lines
        probes = [pr for day in DAYS for pr in sessions(journal, day, rng)]
        nat_probes = [pr for day in DAYS for pr in nat(journal, day, args.nat_per_day, rng)]
        journal.close()
        root = work / "journal"
        began = time.perf_counter()
        seal_due(root, now=datetime(2026, 3, 11, 2, tzinfo=UTC))
        seal_s = time.perf_counter() - began
        seed = rng.random()
        nav = 2 * args.per_day
        rows_q = questions(root, probes, nat_probes, hosts, args.queries, seed)
        rows_size = disk(root)
        began = time.perf_counter()
        said = pack_due(root, now=datetime(2026, 3, 13, 2, tzinfo=UTC))
        pack_s = time.perf_counter() - began
        print("\n".join(said), flush=True)
        packed_q = questions(root, probes, nat_probes, hosts, args.queries, seed)
        packed_size = disk(root)
        began = time.perf_counter()
        report = verify(root)
        verify_s = time.perf_counter() - began
        records = report.records
        wrong = rows_q["wrong"] + packed_q["wrong"]
        same = rows_q["answers"] == packed_q["answers"]
        plain_size = (work / "plain.jsonl").stat().st_size
        journal_rate = statistics.mean(rates["journal"])
        plain_rate = statistics.mean(rates["plain"])
        per_rows, per_packed = rows_size / records, packed_size / records
        print()
        print(table(["measure", "rows (as ingested)", "packed (zstd blocks)"], [
            ["navigation records", f"{nav:,}", ""],
            ["all records (with sessions, NAT)", f"{records:,}", ""],
            ["ingestion, journal (records/s)", f"{journal_rate:,.0f}", ""],
            ["ingestion, plain JSON lines (records/s)", f"{plain_rate:,.0f}", ""],
            ["sealing both days (s)", f"{seal_s:.1f}", ""],
            ["packing both days (s)", "", f"{pack_s:.1f}"],
            ["who had IP X at T, session: p50/p99/max ms", *_pair(rows_q, packed_q, "ip")],
            ["who had public IP:port at T, NAT: p50/p99/max ms",
             *_pair(rows_q, packed_q, "nat")],
            ["who visited H on day D: p50/p99/max ms", *_pair(rows_q, packed_q, "host")],
            ["  largest answer (requests to one host)", f"{rows_q['biggest']:,}",
             f"{packed_q['biggest']:,}"],
            ["wrong answers", f"{rows_q['wrong']}", f"{packed_q['wrong']}"],
            ["same answers, rows and packed", "", "yes" if same else "NO"],
            ["verify everything (s)", "", f"{verify_s:.1f} "
             f"({'intact' if report.ok else 'BROKEN'})"],
            ["disk, journal (bytes/record)", f"{per_rows:.0f}", f"{per_packed:.0f}"],
            ["disk, plain JSON lines (bytes/record)", f"{plain_size / nav:.0f}", ""],
        ]))
        daily = records / len(DAYS)  # navigation, sessions and NAT
        print(f"\nOne year ({SCHOOL_DAYS} school days; records per day in proportion to the "
              f"devices, {daily:,.0f} for {DEVICES:,} devices as here):")
        print(table(["school (DOMAIN.md)", "devices", "records/day", "rows GB/year",
                     "packed GB/year"], [
            [name, f"{devices:,}", f"{daily * devices / DEVICES:,.0f}",
             f"{per_rows * daily * devices / DEVICES * SCHOOL_DAYS / 1e9:,.1f}",
             f"{per_packed * daily * devices / DEVICES * SCHOOL_DAYS / 1e9:,.1f}"]
            for name, devices in SCHOOLS]))
        print(f"\nratio journal/plain ingestion: {journal_rate / plain_rate:.2f} "
              f"({journal_rate:,.0f} vs {plain_rate:,.0f} records/s)")
        print(f"RATIO bytes/record rows/packed: {per_rows / per_packed:.2f} "
              f"({per_rows:.0f} -> {per_packed:.0f} bytes/record)")
        return 0 if report.ok and wrong == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
