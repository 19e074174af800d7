"""e2guardian 5 (Debian's package) as the peer of Squid + CARINE in the lab: configured with the
same UT1 categories as the pupils' profile, started in the appliance's namespace for one run.

It filters as an explicit proxy on the pupils' gateway (port E2G_PORT), going direct to the
web (no parent proxy), URL filtering only: its phrase and content lists are left empty, since
CARINE has none (what is compared is the same list work). Names are resolved through the lab's
DNS (dnsmasq on 127.0.0.1 in the appliance, as Squid's dns_nameservers): e2guardian reads
/etc/resolv.conf, so it runs in a mount namespace of its own where that file is the work
folder's. Only the pupil's PC reaches it, and only the benchmark's own connections: a
temporary rule accepts E2G_PORT from its address with the DSCP class CS3 (removed by handle)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.common import Popen

ETC = Path("/etc/e2guardian")
E2G_PORT = 13180
E2G_TOS = 0x60  # CS3: the e2guardian runs' connections (Squid's ON and OFF use CS2 and CS1)
KINDS = (("domains", "bannedsitelist"), ("urls", "bannedurllist"))


def _set(text: str, key: str, value: str) -> str:
    """``key = value`` in an e2guardian.conf text, replacing the setting or its commented form."""
    line = f"{key} = {value}"
    pattern = rf"(?m)^#?\s*{re.escape(key)}\s*=.*$"
    if re.search(pattern, text):
        return re.sub(pattern, lambda _m: line, text, count=1)
    return text + f"\n{line}\n"


def write_config(work: Path, address: str, tree: Path, categories: Sequence[str]) -> Path:
    """e2guardian.conf and its group file in ``work``, blocking ``categories`` of ``tree``
    (a UT1 folder: CATEGORY/domains, CATEGORY/urls); returns the main file."""
    lists = work / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    logs = work / "log"
    logs.mkdir(exist_ok=True)
    shutil.chown(logs, user="e2guardian", group="e2guardian")
    for kind, name in KINDS:
        includes = [f".Include<{tree / c / kind}>" for c in categories
                    if (tree / c / kind).is_file()]
        (lists / name).write_text("\n".join(includes) + "\n", encoding="ascii")
    empty = lists / "empty"
    empty.write_text("", encoding="ascii")
    (work / "resolv.conf").write_text("nameserver 127.0.0.1\n", encoding="ascii")
    group = (ETC / "e2guardianf1.conf").read_text()
    for _kind, name in KINDS:
        group = group.replace(f"path={ETC}/lists/{name}", f"path={lists / name}")
    for phrases in ("bannedphraselist", "weightedphraselist", "exceptionphraselist"):
        group = _set(group, phrases, f"'{empty}'")
    # A refusal as a redirection (302), as Squid's deny_info answers: small, and counted as
    # "blocked" by the load client (the default template page is a 200).
    group = _set(group, "reportinglevel", "1")
    group = _set(group, "accessdeniedaddress", "'http://blocked.invalid/cgi-bin/e2guardian.pl'")
    (work / "e2guardianf1.conf").write_text(group)
    main = (ETC / "e2guardian.conf").read_text()
    for key, value in (("filterip", address), ("filterports", str(E2G_PORT)),
                       ("transparenthttpsport", str(E2G_PORT + 1)),
                       ("loglocation", f"'{logs / 'access.log'}'"),
                       ("pidfilename", f"'{work / 'e2guardian.pid'}'"), ("nodaemon", "on"),
                       ("logsyslog", "off"), ("enablessl", "off")):
        main = _set(main, key, value)
    main = main.replace(f"{ETC}/e2guardianf1.conf", str(work / "e2guardianf1.conf"))
    # Group files are found next to the main one, as e2guardianf<N>.conf.
    main = re.sub(r"(?m)^filtergroupslist\s*=.*$",
                  f"filtergroupslist = '{ETC}/lists/filtergroupslist'", main)
    conf = work / "e2guardian.conf"
    conf.write_text(main)
    return conf


class E2Guardian:
    """One e2guardian in the appliance's namespace, and the rule that lets the pupil reach it."""

    def __init__(self, appliance_ns: str, client_ip: str, address: str, work: Path) -> None:
        self.ns, self.client_ip, self.address, self.work = appliance_ns, client_ip, address, work
        self.proc: Popen[bytes] | None = None
        self.rule_handle: str | None = None

    def nft(self, *args: str, check: bool = True) -> str:
        from appliance.run import run

        return run(["ip", "netns", "exec", self.ns, "nft", *args], check=check).stdout

    def start(self, tree: Path, categories: Sequence[str]) -> None:
        from appliance.lab import netns
        from bench.common import popen

        self.work.mkdir(parents=True, exist_ok=True)
        self.work.chmod(0o755)
        conf = write_config(self.work, self.address, tree, categories)
        script = (f"mount --bind {self.work / 'resolv.conf'} /etc/resolv.conf && "
                  f"exec e2guardian -N -c {conf}")  # -N: in the foreground, so its PID is ours
        with (self.work / "e2guardian.out").open("wb") as out:
            self.proc = popen(["ip", "netns", "exec", self.ns, "unshare", "--mount",
                               "--propagation", "private", "sh", "-c", script], stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
        netns.wait_for("e2guardian", lambda: self._ready(), timeout=600)
        echo = self.nft("--echo", "--handle", "insert", "rule", "inet", "carine", "input",
                        "ip", "saddr", self.client_ip, "ip", "dscp", "cs3", "tcp", "dport",
                        str(E2G_PORT), "accept", "comment",
                        '"carine-bench: temporary, e2guardian"')
        found = re.search(r"# handle (\d+)", echo)
        if not found:
            raise SystemExit(f"no handle in nft's echo: {echo}")
        self.rule_handle = found.group(1)

    def _ready(self) -> bool:
        from appliance.lab import netns

        if self.proc is not None and self.proc.poll() is not None:
            raise SystemExit("e2guardian stopped: "
                             + (self.work / "e2guardian.out").read_text(errors="replace")[-2000:])
        return bool(netns.listening(self.ns, "tcp", E2G_PORT))

    @property
    def pid(self) -> int:
        """e2guardian's own PID (the sh that started it became it by exec)."""
        return self.proc.pid if self.proc is not None else 0

    def stop(self) -> None:
        if self.rule_handle:
            self.nft("delete", "rule", "inet", "carine", "input", "handle", self.rule_handle,
                     check=False)
        if self.proc is not None:
            from bench.common import stop

            stop(self.proc, grace=10)

    def describe(self) -> str:
        from appliance.run import run

        version = run(["e2guardian", "-v"], check=False).output().strip().splitlines()
        return version[0] if version else "e2guardian"

