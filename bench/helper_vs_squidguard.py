"""CARINE's Squid filtering helper against squidGuard: same lists, same categories, same trace.

    .venv/bin/python bench/helper_vs_squidguard.py                 # 5M domains, 1M requests
    .venv/bin/python bench/helper_vs_squidguard.py --domains 200000 --requests 100000  # smoke

Builds, in a work folder: (a) a UT1 tree, the real subset plus synthetic domains up to
--domains (``carine filter synth``); (b) our index (``carine filter compile``, timed); (c)
squidGuard's Berkeley DB files for the categories the pupil profile blocks (``squidGuard -C
all``, timed), one dest per category and ``pass !cat1 !cat2 ... all``. Then it replays the same
trace (bench/trace.py) through one process of each, over the Squid helper protocols, from a
driver that keeps a bounded number of requests in flight (--window, like Squid's concurrency):

- ours: ``carine-filter-helper --config filtering.json`` as an external ACL helper with
  channel ids (``CH client user method host path sni`` -> ``CH OK|ERR notes``), the clients in
  the pupils' zone, so the pupil profile decides;
- squidGuard 1.6.0 (Debian 12) as a url_rewrite helper (``URL client/fqdn user method`` ->
  ``OK rewrite-url=...`` to block, ``ERR`` to pass). It has no channel ids: Squid runs it with
  concurrency=0, one request at a time per process. It is measured twice: pipelined (the same
  window of lines queued in its pipe: the best it can do as a process) and strictly one at a
  time (how Squid drives it), on the first --strict-requests requests.

Reports decisions/s, helper CPU, startup, peak and current memory (/proc/PID/status VmHWM,
RssAnon, RssFile), build time and memory, and the agreement on block/allow request by request,
with the disagreements explained. The ratio (ours / squidGuard decisions/s) is printed last."""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the repository, not bench/ siblings
    sys.path[0] = str(ROOT)

from bench.common import VENV_BIN, mib, popen, proc_cpu, proc_status, table, timed  # noqa: E402
from bench.trace import Request, describe, generate, read_trace  # noqa: E402

CARINE = str(VENV_BIN / "carine")
HELPER = str(VENV_BIN / "carine-filter-helper")
DEFAULT_LISTS = ROOT.parent / "shared" / "data" / "ut1-subset.tar.xz"
POLICY_RC = Path("/usr/sbin/policy-rc.d")
KINDS = ("domains", "urls", "expressions")
# The destination Squid sees for intercepted HTTPS (the lab's web server): only the SNI names it.
INTERCEPTED_DST = "198.18.1.1"
_SAFE = "/:?&=;,+~!$'()*@[]"  # kept as is in a field; the rest (space, %, quotes...) %-encoded


# --- setup -------------------------------------------------------------------------------------

def ensure_squidguard() -> str:
    """squidGuard's path, installing Debian's package if needed without starting any service."""
    found = shutil.which("squidGuard")
    if found:
        return found
    print("installing Debian's squidguard (apt-get install -y squidguard)", flush=True)
    ours = not POLICY_RC.exists()  # never replace an administrator's policy
    if ours:
        POLICY_RC.write_text("#!/bin/sh\n# carine bench: no service starts during install\n"
                             "exit 101\n", encoding="ascii")
        POLICY_RC.chmod(0o755)
    try:
        timed(["apt-get", "install", "-y", "squidguard"], Path("/tmp/carine-bench-apt.log"),
              env={"DEBIAN_FRONTEND": "noninteractive"})
    finally:
        if ours:
            POLICY_RC.unlink()
    found = shutil.which("squidGuard")
    if not found:
        raise SystemExit("squidGuard is still missing after apt-get install squidguard")
    return found


def source_tree(lists: Path, work: Path) -> Path:
    """The real UT1 lists as a folder (an archive is unpacked into the work folder)."""
    if lists.is_dir():
        return lists
    from filtering.archive import unpack

    return unpack(lists, work / "ut1-real")


def render_filtering(site: Path, root: Path) -> Path:
    """filtering.json as the appliance renders it, for a tree at ``root`` (index, store there)."""
    from appliance.render.layout import Layout
    from appliance.site import load_site
    from filtering.config import render_config

    layout = Layout.in_tree(root)
    path = root / "etc" / "carine" / "filtering.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config(load_site(site), layout), encoding="utf-8")
    return path


def fresh_store(config_path: Path) -> None:
    """Remove the state store the helpers write their refusals to: every CARINE replay starts
    from an empty one, as a round must not pay for the rows (and WAL) left by earlier rounds or
    runs of a reused work folder (a store holds an hour of refusals; a reused folder's, days)."""
    from filtering.config import FilterConfig

    store = FilterConfig.load(config_path).store
    for path in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
        path.unlink(missing_ok=True)


def blocked_categories(config_path: Path, zone_name: str, tree: Path) -> tuple[str, list[str],
                                                                              list[str]]:
    """(network, blocked categories present in the tree, those absent) for the zone's profile."""
    from filtering.config import FilterConfig

    config = FilterConfig.load(config_path)
    zone = next((z for z in config.zones if z.name == zone_name), None)
    if zone is None:
        raise SystemExit(f"no filtered zone {zone_name!r}: {[z.name for z in config.zones]}")
    profile = config.filtering.profiles[zone.profile]
    if profile.allow_only or profile.time_rules:
        raise SystemExit(f"profile {zone.profile} has allow_only or time rules: squidGuard's "
                         "`pass !cat... all` would not express it")
    wanted = list(dict.fromkeys((*config.filtering.national.floor(profile.audience),
                                 *profile.categories())))
    present = [c for c in wanted if any(_nonempty(tree / c / k) for k in KINDS)]
    return str(zone.subnet), present, [c for c in wanted if c not in present]


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def squidguard_conf(tree: Path, sg: Path, categories: Sequence[str]) -> Path:
    """A dbhome of hard links to the tree's list files, and a squidGuard.conf blocking them."""
    db, logdir = sg / "db", sg / "log"
    logdir.mkdir(parents=True, exist_ok=True)
    dests = []
    for cat in categories:
        lines = []
        for kind, word in (("domains", "domainlist"), ("urls", "urllist"),
                           ("expressions", "expressionlist")):
            source = tree / cat / kind
            if not _nonempty(source):
                continue
            target = db / cat / kind
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
            lines.append(f"\t{word} {cat}/{kind}")
        dests.append(f"dest {cat} {{\n" + "\n".join(lines) + "\n}\n")
    conf = sg / "squidGuard.conf"
    conf.write_text(
        f"# carine bench: the pupil profile's categories, one dest each\n"
        f"dbhome {db}\nlogdir {logdir}\n\n" + "\n".join(dests) +
        "\nacl {\n\tdefault {\n\t\tpass " + " ".join(f"!{c}" for c in categories) + " all\n"
        "\t\tredirect http://blocked.invalid/?c=%t&u=%u\n\t}\n}\n", encoding="ascii")
    return conf


def _size(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


# --- the two protocols -------------------------------------------------------------------------

def _q(text: str) -> str:
    return quote(text, safe=_SAFE) if text else "-"


def ours_line(r: Request) -> bytes:
    """The external ACL line Squid sends for ``r`` (format %>a %un %>rm %>rd %>rp
    %ssl::>sni), without its channel id."""
    host, _, path = r.parts()
    if r.method == "TLS":  # intercepted: a CONNECT to the address, the name from the SNI
        fields = (r.client, "-", "CONNECT", INTERCEPTED_DST, "-", _q(host))
    elif r.method == "CONNECT":
        fields = (r.client, "-", "CONNECT", _q(host), "-", "-")
    else:
        fields = (r.client, "-", r.method, _q(host), _q(path), "-")
    return (" ".join(fields) + "\n").encode("ascii")


def sg_line(r: Request) -> bytes:
    """The url_rewrite line Squid (3.4+, concurrency=0) sends: URL client/fqdn user method."""
    method = "CONNECT" if r.method == "TLS" else r.method
    return f"{r.target} {r.client}/- - {method}\n".encode("ascii")


def ours_block(answer: bytes) -> int:
    """1 block (ERR), 0 allow (OK), 2 anything else (BH)."""
    word = answer.split(b" ", 2)[1:2]
    return 1 if word == [b"ERR"] else 0 if word == [b"OK"] else 2


def sg_block(answer: bytes) -> int:
    """squidGuard (Squid 3.4 protocol): OK with a rewrite or redirect blocks, ERR passes."""
    return 1 if answer.startswith(b"OK") else 0 if answer.startswith(b"ERR") else 2


# --- the driver --------------------------------------------------------------------------------

@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    startup: float
    cpu: float  # the helper's CPU seconds during the timed part
    status: dict[str, int]
    decide_cpu: float  # of which its main thread's (the decisions; the rest: refusals)
    decisions: bytearray
    answers: list[bytes] = field(default_factory=list)
    log: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def replay(name: str, argv: Sequence[str], lines: Sequence[bytes], window: int, channels: bool,
           classify: Callable[[bytes], int], log: Path, keep: bool = False,
           ready: Callable[[], object] | None = None) -> Run:
    """Send ``lines`` with at most ``window`` unanswered; time from the first request after a
    warm-up one (which also waits out the helper's start) to the last answer. ``ready`` is
    called between the two (a barrier: parallel replays start their timed parts together)."""
    n = len(lines)
    with log.open("wb") as errors:
        proc = popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                     bufsize=0)
    assert proc.stdin is not None and proc.stdout is not None
    wfd, rfd = proc.stdin.fileno(), proc.stdout.fileno()

    def send(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(wfd, view):]

    started = time.perf_counter()
    send((b"0 " if channels else b"") + lines[0])
    pending = b""
    while b"\n" not in pending:
        chunk = os.read(rfd, 1 << 16)
        if not chunk:
            raise SystemExit(f"{name} ended before answering: {log.read_text()[-2000:]}")
        pending += chunk
    startup = time.perf_counter() - started
    if ready is not None:
        ready()
    pending = b""
    decisions = bytearray(n)
    answers: list[bytes] = [b""] * n if keep else []
    chans = [b"%d " % i for i in range(window)]
    free = list(range(window - 1, -1, -1))
    owner = [0] * window
    sent = done = 0
    main_task = proc.pid  # the main thread's task id is the process id

    def main_cpu() -> float:
        return proc_cpu(main_task, f"/proc/{proc.pid}/task/{main_task}/stat")

    cpu0, main0 = proc_cpu(proc.pid), main_cpu()
    t0 = time.perf_counter()
    while done < n:
        if channels:
            k = min(len(free), n - sent)
            if k:
                out = []
                for _ in range(k):
                    ch = free.pop()
                    owner[ch] = sent
                    out.append(chans[ch] + lines[sent])
                    sent += 1
                send(b"".join(out))
        else:
            k = min(window - (sent - done), n - sent)
            if k:
                send(b"".join(lines[sent:sent + k]))
                sent += k
        chunk = os.read(rfd, 1 << 16)
        if not chunk:
            raise SystemExit(f"{name} closed its output after {done} answers: "
                             f"{log.read_text()[-2000:]}")
        *got, pending = (pending + chunk).split(b"\n")
        for answer in got:
            if channels:
                space = answer.find(b" ")
                ch = int(answer[:space])
                index = owner[ch]
                free.append(ch)
            else:
                index = done
            decisions[index] = classify(answer)
            if keep:
                answers[index] = answer
            done += 1
    seconds = time.perf_counter() - t0
    cpu, decide_cpu = proc_cpu(proc.pid) - cpu0, main_cpu() - main0
    status = proc_status(proc.pid)
    proc.stdin.close()
    proc.wait(30)
    proc.stdout.close()
    return Run(name, n, seconds, startup, cpu, status, decide_cpu, decisions, answers,
               log.read_text(errors="replace"))


def _replay_child(conn: Any, barrier: Any, args: tuple[Any, ...]) -> None:
    conn.send(replay(*args, ready=barrier.wait))
    conn.close()


def replay_n(name: str, argv: Sequence[str], lines: Sequence[bytes], processes: int,
             window: int, channels: bool, classify: Callable[[bytes], int], log: Path) -> Run:
    """``processes`` helpers side by side, as Squid runs its children: helper k gets every
    processes-th line from k, through its own driver process (window per helper), all timed
    parts started together. The merged run: all decisions, wall time of the slowest, CPU summed,
    memory of the largest helper."""
    if processes <= 1:
        return replay(name, argv, lines, window, channels, classify, log)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes)
    pipes, children = [], []
    for k in range(processes):
        mine, theirs = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_replay_child, args=(
            theirs, barrier, (name, argv, lines[k::processes], window, channels, classify,
                              log.with_name(f"{log.stem}-{k}{log.suffix}"))))
        child.start()
        theirs.close()
        pipes.append(mine)
        children.append(child)
    parts: list[Run] = [pipe.recv() for pipe in pipes]
    for child in children:
        child.join()
        if child.exitcode:
            raise SystemExit(f"a replay of {name} failed (exit {child.exitcode})")
    decisions = bytearray(len(lines))
    for k, part in enumerate(parts):
        decisions[k::processes] = part.decisions
    biggest = max(parts, key=lambda r: r.status.get("VmHWM", 0))
    return Run(name, len(lines), max(r.seconds for r in parts), max(r.startup for r in parts),
               sum(r.cpu for r in parts), biggest.status, sum(r.decide_cpu for r in parts),
               decisions, [], "".join(r.log for r in parts))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


# --- agreement ---------------------------------------------------------------------------------

def _target_key(r: Request) -> tuple[str, str]:
    return ("HTTPS" if r.method in ("CONNECT", "TLS") else "HTTP", r.target)


def _name(key: str) -> str:
    """A domain trie key (``com.example.``) as a name (``example.com``)."""
    return ".".join(key[:-1].split(".")[::-1])


def explain(r: Request, ours_answer: bytes, sg_answer: bytes, index: object,
            blocked: frozenset[str]) -> tuple[str, str]:
    """(reason, detail) for a request the helpers disagree on, from our index (its tries, read
    directly: a benchmark may look inside) and squidGuard 1.6.0's rules (sgDiv.c parseLine,
    sgDb.c defined, sg.y sgAclAccess)."""
    from filtering.names import Malformed, domain_key, normalise_domain, strip_www
    from filtering.shards import shard_of

    host, port, path = r.parts()
    https = r.method in ("CONNECT", "TLS")
    try:
        normal = normalise_domain(host)
    except Malformed:
        normal = ""
    lookup: Any = index
    if ours_block(ours_answer) == 1:
        if host.endswith("."):
            return ("trailing dot: CARINE drops it, squidGuard looks 'name.' up as written",
                    "")
        if normal and lookup.domain_categories(normal) & blocked:
            key = domain_key(normal)
            trie = lookup._domains[shard_of(key, len(lookup._domains))]
            listed = trie.prefixes(key)
            if listed and listed[-1] != key:
                parent = listed[-1]
                # defined() takes the first key at or after the request, and the one before it:
                # the parent matches only if it is that previous key and the next one is not
                # also under the parent. Any other listed subdomain can stand in the way.
                others = [k for k in trie.keys(parent) if k != parent and k != key
                          and not key.startswith(k)]
                if others:
                    below = [k for k in others if k < key]
                    near = max(below) if below else min(others)
                    return ("listed parent hidden by another listed subdomain: squidGuard's BDB "
                            "lookup looks only at the keys next to the request",
                            f"parent {_name(parent)}, also listed {_name(near)} "
                            f"({len(others)} subdomains listed)")
                return ("listed parent missed by squidGuard", f"parent {_name(parent)}")
            return ("domain listed as is, missed by squidGuard", "")
        if normal and lookup.url_categories(normal, "" if https else path) & blocked:
            if https:
                return ("URL entry for the site's root ('host/'): CARINE applies it to HTTPS "
                        "by name, squidGuard compares 'host' with 'host/'", "")
            # squidGuard compares lowercased URLs in plain byte order (its urls.db btree); like
            # domains, an entry matches only if no other entry extending it is next to the
            # request.
            stem = strip_www(normal)
            key = (stem + (path or "/")).lower()
            listed = [k.lower() for k in lookup._urls.prefixes(stem + (path or "/"))]
            entry = listed[-1] if listed else ""
            others = sorted({k for k in (k.lower() for k in lookup._urls.keys(stem))
                             if k.startswith(entry) and k != entry and not key.startswith(k)}) \
                if entry else []
            if others:
                return ("URL entry hidden by a longer entry: squidGuard's BDB lookup looks only "
                        "at the keys next to the request",
                        f"entry {entry}, also listed {others[0]} ({len(others)} longer)")
            if "//" in entry.split("/", 1)[1] or "%" in entry:
                return ("URL entry holding '//' or %-escapes: squidGuard 1.6 never matches "
                        "these (checked by hand: even the exact URL passes)", f"entry {entry}")
            return ("URL entry missed by squidGuard", f"entry {entry}")
        return ("expression or other", ours_answer.decode(errors="replace")[:120])
    sg_cat = sg_answer.split(b"c=", 1)[1].split(b"&", 1)[0].decode() if b"c=" in sg_answer \
        else "?"
    first = host.split(".", 1)[0].rstrip("0123456789")
    if not https and first in ("web", "ftp") and host.count(".") >= 2:
        return ("squidGuard strips 'web.' and 'ftp.' (as well as 'www.') before URL lookups; "
                "CARINE strips 'www.' only", f"[{sg_cat}]")
    if not normal:
        return ("host that is not a name (e.g. www.<IPv4>): CARINE refuses it before any "
                "lookup, squidGuard strips www. and matches the address's URL entry",
                f"[{sg_cat}]")
    if not https:
        stem = strip_www(normal)
        lowered = (stem + path).lower()
        entries = [k for k in lookup._urls.keys(stem) if lowered.startswith(k.lower())]
        if entries:
            return ("URL entry in another case: squidGuard lowercases the URL and its lists, "
                    "CARINE keeps the path's case", f"entry {entries[0]} [{sg_cat}]")
    if port and not https:
        return ("URL with a port", f"[{sg_cat}]")
    return ("squidGuard blocks, CARINE finds no blocked category", f"[{sg_cat}]")


def agreement(reqs: Sequence[Request], ours: Run, sg: Run, ours_argv: Sequence[str],
              sg_argv: Sequence[str], index_path: Path, blocked: Sequence[str], work: Path,
              examples: int) -> str:
    """Agreement by request and by distinct target, and the disagreements explained."""
    n = min(ours.requests, sg.requests)
    a, b = ours.decisions, sg.decisions
    same = sum(1 for i in range(n) if a[i] == b[i])
    ours_only = [i for i in range(n) if a[i] == 1 and b[i] == 0]
    sg_only = [i for i in range(n) if a[i] == 0 and b[i] == 1]
    other = [i for i in range(n) if 2 in (a[i], b[i])]
    blocked_ours = sum(1 for i in range(n) if a[i] == 1)
    blocked_sg = sum(1 for i in range(n) if b[i] == 1)
    targets: dict[tuple[str, str], int] = {}
    for i in range(n):
        targets.setdefault(_target_key(reqs[i]), i)
    distinct_same = sum(1 for i in targets.values() if a[i] == b[i])
    out = [
        f"blocked: CARINE {blocked_ours:,} ({100 * blocked_ours / n:.2f}%), squidGuard "
        f"{blocked_sg:,} ({100 * blocked_sg / n:.2f}%) of {n:,} requests",
        f"agreement: {100 * same / n:.3f}% of requests ({n - same:,} differ: CARINE blocks "
        f"alone {len(ours_only):,}, squidGuard blocks alone {len(sg_only):,}, errors "
        f"{len(other):,}); {100 * distinct_same / len(targets):.3f}% of {len(targets):,} "
        f"distinct targets",
    ]
    differing: dict[tuple[str, str], int] = {}
    for i in ours_only + sg_only + other:
        differing.setdefault(_target_key(reqs[i]), i)
    if not differing:
        return "\n".join(out)
    # Ask both helpers again, untimed, for their full answers on each differing target.
    picks = sorted(differing.values())
    sub = [reqs[i] for i in picks]
    ours_again = replay("carine", ours_argv, [ours_line(r) for r in sub], 1, True, ours_block,
                        work / "explain-ours.log", keep=True)
    sg_again = replay("squidGuard", sg_argv, [sg_line(r) for r in sub], 1, False, sg_block,
                      work / "explain-sg.log", keep=True)
    from filtering.index import Index

    reasons: Counter[str] = Counter()
    shown: dict[str, list[str]] = {}
    weight = Counter(_target_key(reqs[i]) for i in ours_only + sg_only + other)
    with Index.open(index_path) as index:
        for j, r in enumerate(sub):
            label, detail = explain(r, ours_again.answers[j], sg_again.answers[j], index,
                                    frozenset(blocked))
            reasons[label] += weight[_target_key(r)]
            if len(shown.setdefault(label, [])) < examples:
                shown[label].append(
                    f"    {r.method} {r.target[:100]} ({r.kind})\n"
                    f"      CARINE:     {ours_again.answers[j].decode(errors='replace')[:150]}\n"
                    f"      squidGuard: {sg_again.answers[j].decode(errors='replace')[:150]}\n"
                    f"      detail: {detail}")
    out.append(f"differing distinct targets: {len(differing):,}; requests by reason:")
    for label, count in reasons.most_common():
        out.append(f"  {count:8,}  {label}")
    out.append("examples:")
    for label, _ in reasons.most_common():
        out.append(f"  {label}:")
        out += shown[label]
    return "\n".join(out)


# --- profile -----------------------------------------------------------------------------------

def profile_ours(config: Path, lines: Sequence[bytes], window: int, top: int = 25) -> str:
    """Our helper's serve loop in this process under cProfile, fed ``window`` lines per read."""
    from filtering.config import FilterConfig
    from filtering.decide import Decider
    from filtering.helper import open_index, serve

    decider = Decider(FilterConfig.load(config), open_index)
    batches = [b"".join(b"%d %s" % (j, line) for j, line in enumerate(lines[i:i + window]))
               for i in range(0, len(lines), window)]
    feed = iter(batches)
    sink = io.BytesIO()
    prof = cProfile.Profile()
    started = time.perf_counter()
    prof.enable()
    serve(decider, lambda _n: next(feed, b""), sink.write)
    prof.disable()
    elapsed = time.perf_counter() - started
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    return (f"cProfile of serve() on {len(lines):,} requests ({len(lines) / elapsed:,.0f}/s "
            f"under the profiler), by own time:\n" + text.getvalue())


# --- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lists", type=Path, default=DEFAULT_LISTS,
                   help="the real UT1 lists: folder or archive (default: %(default)s)")
    p.add_argument("--domains", type=int, default=5_000_000,
                   help="domain lines in the tree, real + synthetic (default: %(default)s)")
    p.add_argument("--requests", type=int, default=1_000_000, help="trace length")
    p.add_argument("--trace", type=Path, help="replay this trace instead of generating one")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--traces", default="repeated,unrepeated",
                   help="comma-separated: repeated (skewed, as a proxy log) and/or unrepeated "
                        "(no URL asked twice: the cold path; default: both)")
    p.add_argument("--processes", type=int, default=2,
                   help="helpers of each kind side by side, as Squid runs its children "
                        "(default: %(default)s, one per core here)")
    p.add_argument("--window", type=int, default=100, help="requests in flight (Squid's "
                   "concurrency=100 in the rendered squid.conf)")
    p.add_argument("--rounds", type=int,
                   help="full replays of each helper, alternating; the median of the "
                        "per-round ratios is the headline (default: 3 from 500,000 "
                        "requests, else 1)")
    p.add_argument("--strict-requests", type=int,
                   help="requests sent to each helper one at a time, as Squid drives "
                        "squidGuard (default: a tenth of the trace; 0: skip)")
    p.add_argument("--path-requests", type=int,
                   help="also replay up to N requests both allow, then N both block "
                        "(default: a tenth of the trace; 0: skip)")
    p.add_argument("--site", type=Path, default=ROOT / "examples" / "site.yaml")
    p.add_argument("--zone", default="pedago", help="the clients' zone (its profile decides)")
    p.add_argument("--work", type=Path, help="work folder (default: a new one in /var/tmp)")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the tree, index and DB files already in --work (no build times)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--examples", type=int, default=3, help="disagreement examples per reason")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="also profile our helper in-process (cProfile) on N requests")
    p.add_argument("--profile-blocked", type=int, default=0, metavar="N",
                   help="also profile it on N requests that both helpers block")
    args = p.parse_args(argv)
    args.traces = [t for t in args.traces.split(",") if t]
    if not args.traces or set(args.traces) - {"repeated", "unrepeated"}:
        p.error("--traces takes repeated, unrepeated or both")
    if args.rounds is None:
        args.rounds = 3 if args.requests >= 500_000 else 1
    if args.strict_requests is None:
        args.strict_requests = args.requests // 10
    if args.path_requests is None:
        args.path_requests = args.requests // 10

    squidguard = ensure_squidguard()
    sg_version = subprocess_output([squidguard, "-v"])
    work = args.work or Path(tempfile.mkdtemp(prefix="carine-bench-sg-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    tree_out = work / "tree"
    tree = tree_out / "blacklists"
    root = work / "root"
    index = root / "var/lib/carine/filtering/index.cidx"
    sg = work / "sg"
    try:
        config = render_filtering(args.site, root)
        builds: dict[str, object] = {}
        if not (args.reuse and tree.is_dir()):
            shutil.rmtree(tree_out, ignore_errors=True)
            real = source_tree(args.lists, work)
            t = timed([CARINE, "filter", "synth", "--lists", str(real), "--out", str(tree_out),
                       "--domains", str(args.domains), "--seed", str(args.seed)],
                      work / "synth.log")
            print((work / "synth.log").read_text().strip(), flush=True)
            print(f"synthesised the tree in {t.seconds:.1f} s", flush=True)
        network, categories, absent = blocked_categories(config, args.zone, tree)
        print(f"blocked for zone {args.zone}: {', '.join(categories)}"
              + (f" (not in the tree: {', '.join(absent)})" if absent else ""), flush=True)
        if not (args.reuse and index.is_file()):
            index.parent.mkdir(parents=True, exist_ok=True)
            builds["ours"] = timed([CARINE, "filter", "compile", "--lists", str(tree_out),
                                    "--out", str(index)], work / "compile.log")
            print((work / "compile.log").read_text().strip(), flush=True)
        conf = sg / "squidGuard.conf"
        if not (args.reuse and conf.is_file()):
            shutil.rmtree(sg, ignore_errors=True)
            conf = squidguard_conf(tree, sg, categories)
            builds["sg"] = timed([squidguard, "-c", str(conf), "-C", "all"], work / "sg-build.log")
            log = (sg / "log" / "squidGuard.log").read_text(errors="replace")
            bad = [line for line in log.splitlines() if "ERROR" in line or "FATAL" in line
                   or "emergency" in line.lower()]
            if bad:
                raise SystemExit("squidGuard -C all reported:\n" + "\n".join(bad[:20]))
        ours_argv = [HELPER, "--config", str(config)]
        sg_argv = [squidguard, "-c", str(conf)]
        n_proc = args.processes
        headline: list[str] = []
        for mode in args.traces:
            # The trace: generated from the tree (not timed as part of either helper).
            repeat = mode == "repeated"
            trace_path = (args.trace if repeat and args.trace else
                          work / (f"trace-{args.requests}-{args.seed}.txt" if repeat else
                                  f"trace-unrepeated-{args.requests}-{args.seed}.txt"))
            if not trace_path.is_file():
                started = time.monotonic()
                generate(tree_out, trace_path, args.requests, args.seed, network=network,
                         repeat=repeat)
                print(f"generated the {mode} trace in {time.monotonic() - started:.1f} s",
                      flush=True)
            reqs = read_trace(trace_path)
            print(f"\n=== {mode} trace {trace_path}:\n{describe(reqs)}", flush=True)
            ours_lines = [ours_line(r) for r in reqs]
            sg_lines = [sg_line(r) for r in reqs]
            first = mode == args.traces[0]
            runs: dict[str, Run] = {}
            rounds: dict[str, list[Run]] = {"ours": [], "sg": []}
            for n in range(args.rounds):  # alternate who goes first: drift hits both alike
                for key in (("ours", "sg") if n % 2 == 0 else ("sg", "ours")):
                    print(f"{mode} round {n + 1}/{args.rounds}: {n_proc} x "
                          f"{'CARINE' if key == 'ours' else 'squidGuard (pipelined)'}...",
                          flush=True)
                    if key == "ours":
                        fresh_store(config)
                    run = replay_n("carine", ours_argv, ours_lines, n_proc, args.window, True,
                                   ours_block, work / "ours.log") if key == "ours" else \
                        replay_n("squidGuard", sg_argv, sg_lines, n_proc, args.window, False,
                                 sg_block, work / "sg.log")
                    rounds[key].append(run)
                    print(f"  {run.rate:,.0f} decisions/s in {run.seconds:.1f} s, "
                          f"{1e6 * run.cpu / run.requests:.2f} us CPU each", flush=True)
            # The headline pairs the rounds: ratio of round i to round i, then their median.
            ratios = [o.rate / s.rate for o, s in zip(rounds["ours"], rounds["sg"], strict=True)]
            core = [(s.cpu / s.requests) / (o.cpu / o.requests)
                    for o, s in zip(rounds["ours"], rounds["sg"], strict=True)]
            for key, done in rounds.items():  # the median round is shown in the table
                runs[key] = sorted(done, key=lambda r: r.rate)[len(done) // 2]
            if first and args.strict_requests:
                m = min(args.strict_requests, len(reqs))
                print(f"replaying {m:,} requests through {n_proc} x squidGuard one at a time...",
                      flush=True)
                runs["sg1"] = replay_n("squidGuard", sg_argv, sg_lines[:m], n_proc, 1, False,
                                       sg_block, work / "sg1.log")
                fresh_store(config)
                runs["ours1"] = replay_n("carine", ours_argv, ours_lines[:m], n_proc,
                                         args.window, True, ours_block, work / "ours1.log")
            if first:  # the driver's own ceiling: a helper answering without deciding (mawk)
                runs["null"] = replay("mawk", ["mawk", "-W", "interactive", '{print $1 " OK"}'],
                                      ours_lines, args.window, True, ours_block,
                                      work / "null.log")
            if first and args.path_requests:
                # One path at a time: requests both helpers allow, then requests both block.
                a, b = runs["ours"].decisions, runs["sg"].decisions
                for key, want in (("allow", 0), ("block", 1)):
                    picks = [i for i in range(len(reqs)) if a[i] == want and b[i] == want]
                    picks = picks[:args.path_requests]
                    if not picks:
                        continue
                    print(f"replaying the {len(picks):,} requests both helpers {key}...",
                          flush=True)
                    fresh_store(config)
                    runs[f"ours-{key}"] = replay_n(
                        "carine", ours_argv, [ours_lines[i] for i in picks], n_proc,
                        args.window, True, ours_block, work / f"ours-{key}.log")
                    runs[f"sg-{key}"] = replay_n(
                        "squidGuard", sg_argv, [sg_lines[i] for i in picks], n_proc,
                        args.window, False, sg_block, work / f"sg-{key}.log")
            errors = [line for line in runs["ours"].log.splitlines()
                      if " ERROR " in line or "Traceback" in line]
            report = [agreement(reqs, runs["ours"], runs["sg"], ours_argv, sg_argv, index,
                                categories, work, args.examples)]
            if "sg1" in runs:
                m = runs["sg1"].requests
                same = sum(1 for i in range(m)
                           if runs["sg1"].decisions[i] == runs["sg"].decisions[i])
                report.append(f"squidGuard one at a time vs pipelined: {same:,}/{m:,} identical")
            if errors:
                report.append(f"CARINE's helper logged {len(errors)} errors, e.g. "
                              f"{errors[0][:300]}")
            if args.profile:
                report.append(profile_ours(config, ours_lines[:args.profile], args.window))
            if first and args.profile_blocked:
                a, b = runs["ours"].decisions, runs["sg"].decisions
                picks = [i for i in range(len(reqs)) if a[i] == 1 and b[i] == 1]
                report.append("Requests both helpers block only. " + profile_ours(
                    config, [ours_lines[i] for i in picks[:args.profile_blocked]], args.window))
            print(f"\n--- {mode} trace: agreement\n" + "\n".join(report) + "\n")
            args.ours_rates = [r.rate for r in rounds["ours"]]
            args.sg_rates = [r.rate for r in rounds["sg"]]
            print(f"--- {mode} trace: {n_proc} CARINE helpers against {n_proc} squidGuard "
                  "processes")
            print(results_table(runs, builds if first else {}, index, sg, args, len(reqs)))
            print(f"  per-round ratios, decisions/s: {' '.join(f'{r:.2f}' for r in ratios)}; "
                  f"CPU per decision (per core): {' '.join(f'{r:.2f}' for r in core)}")
            if "sg1" in runs:
                print(f"  vs squidGuard one request at a time per process (as Squid drives it): "
                      f"{runs['ours1'].rate / runs['sg1'].rate:.2f}")
            headline.append(f"{mode} {median(ratios):.2f} (per core {median(core):.2f})")
        print(f"\n{sg_version}; CARINE {revision()}; {n_proc} processes each, window "
              f"{args.window} per CARINE helper; load average {os.getloadavg()[0]:.2f} at the "
              f"end; {args.requests:,} requests per trace; {args.domains:,} domain lines; "
              f"work {work}")
        print(f"RATIO ours/squidGuard decisions/s, {n_proc} helpers vs {n_proc} squidGuard, "
              f"median of {args.rounds} per-round ratios: " + "; ".join(headline))
        return 0
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


def revision() -> str:
    """The checkout the helper ran from: commit, and whether filtering/ had local changes."""
    from appliance.run import run

    head = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=False)
    dirty = run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "filtering"],
                check=False)
    return f"{head.stdout.strip() or '?'}" + (" + local changes in filtering/"
                                              if dirty.stdout.strip() else "")


def subprocess_output(argv: Sequence[str]) -> str:
    from appliance.run import run

    return run(argv, check=False).output().strip()


def results_table(runs: dict[str, Run], builds: dict[str, object], index: Path, sg: Path,
                  args: argparse.Namespace, n: int) -> str:
    ours, sgr = runs["ours"], runs["sg"]

    def build(key: str, attr: str, fmt: str) -> str:
        t = builds.get(key)
        return format(getattr(t, attr), fmt) if t is not None else "reused"

    def per_k(run: Run) -> str:
        return f"{1000 * run.cpu / run.requests * 1000:.1f}"

    sg_files = sorted(sg.glob("db/*/*.db"))
    rows: list[list[object]] = [
        ["build time (s)", build("ours", "seconds", ".1f"), build("sg", "seconds", ".1f")],
        ["build CPU (s)", build("ours", "cpu", ".1f"), build("sg", "cpu", ".1f")],
        ["build peak RSS (MiB)", build("ours", "max_rss_mib", ",.0f"),
         build("sg", "max_rss_mib", ",.0f")],
        ["lists on disk (MiB)", f"{index.stat().st_size / 2**20:,.1f}",
         f"{_size(sg_files) / 2**20:,.1f}"],
        ["startup to first answer (s)", f"{ours.startup:.2f}", f"{sgr.startup:.2f}"],
        [f"decisions/s, window {args.window}", f"{ours.rate:,.0f}", f"{sgr.rate:,.0f}"],
    ]
    if "sg1" in runs:
        rows.append([f"decisions/s, one at a time ({runs['sg1'].requests:,})",
                     f"{runs['ours1'].rate:,.0f}", f"{runs['sg1'].rate:,.0f}"])
    for key in ("allow", "block"):
        if f"ours-{key}" in runs:
            count = runs[f"ours-{key}"].requests
            rows.append([f"decisions/s, only requests both {key} ({count:,})",
                         f"{runs[f'ours-{key}'].rate:,.0f}", f"{runs[f'sg-{key}'].rate:,.0f}"])
            rows.append([f"  helper CPU share, only {key} (%)",
                         f"{100 * runs[f'ours-{key}'].cpu / runs[f'ours-{key}'].seconds:.0f}",
                         f"{100 * runs[f'sg-{key}'].cpu / runs[f'sg-{key}'].seconds:.0f}"])
    rows += [
        ["helper CPU per 1k decisions (ms)", per_k(ours), per_k(sgr)],
        ["  of which its main thread (ms)", f"{1e6 * ours.decide_cpu / ours.requests:.1f}",
         f"{1e6 * sgr.decide_cpu / sgr.requests:.1f}"],
        ["helper CPU share of the run (%)", f"{100 * ours.cpu / ours.seconds:.0f}",
         f"{100 * sgr.cpu / sgr.seconds:.0f}"],
        ["VmHWM peak resident (MiB)", mib(ours.status["VmHWM"]), mib(sgr.status["VmHWM"])],
        ["VmRSS at the end (MiB)", mib(ours.status["VmRSS"]), mib(sgr.status["VmRSS"])],
        ["  RssAnon (MiB)", mib(ours.status["RssAnon"]), mib(sgr.status["RssAnon"])],
        ["  RssFile (MiB)", mib(ours.status["RssFile"]), mib(sgr.status["RssFile"])],
    ]
    rows.insert(6, ["  each round", " ".join(f"{r:,.0f}" for r in args.ours_rates),
                    " ".join(f"{r:,.0f}" for r in args.sg_rates)])
    text = table(["", "CARINE helper", "squidGuard"], rows)
    null = runs.get("null")
    if null is None:
        return text
    return (text + f"\ndriver ceiling (mawk answering without deciding, window "
            f"{args.window}): {null.rate:,.0f} answers/s over {n:,} requests")


if __name__ == "__main__":
    sys.exit(main())
