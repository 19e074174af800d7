"""Drive a running lab from Python: run commands in nodes, fetch pages, probe ports, read logs.

The lab tests use it; so can a developer at a prompt: ``LabDriver().curl("pedago-1", url)``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from appliance.errors import CarineError
from appliance.lab.daemons import read_lease
from appliance.lab.state import LabState
from appliance.lab.topology import LAB_DIR, lab_layout
from appliance.run import Result, run


@dataclass
class LabDriver:
    """A handle on the lab recorded in ``state_path``."""

    state_path: Path = LAB_DIR / "state.json"

    @property
    def state(self) -> LabState:
        return LabState.load(self.state_path)

    def ns(self, node: str) -> str:
        nodes: dict[str, str] = self.state.info.get("nodes", {})
        if node not in nodes:
            raise CarineError(f"no lab node {node!r}", f"nodes: {', '.join(nodes)}")
        return nodes[node]

    def exec(self, node: str, argv: list[str], timeout: float = 30) -> Result:
        """Run ``argv`` in ``node``; never raises on a non-zero exit."""
        return run(["ip", "netns", "exec", self.ns(node), *argv], check=False, timeout=timeout)

    def lease(self, node: str) -> dict[str, str]:
        return read_lease(self.ns(node))

    def address(self, node: str) -> IPv4Address:
        return IPv4Address(self.lease(node)["ip"])

    @property
    def ca(self) -> str:
        return str(self.state.info["ca"])

    def curl(self, node: str, url: str, *, proxy: str | None = None, verbose: bool = False,
             timeout: float = 5) -> Result:
        argv = ["curl", "-sS", "--max-time", str(timeout), "--cacert", self.ca]
        argv += ["-x", proxy] if proxy else ["--noproxy", "*"]
        argv += ["-v"] if verbose else []
        return self.exec(node, [*argv, url], timeout=timeout + 5)

    def probe(self, node: str, proto: str, host: str, port: int, timeout: float = 1.0) -> Result:
        """Whether ``node`` reaches ``proto``/``host``:``port`` (exit 0) and what answered."""
        return self.exec(node, [sys.executable, "-m", "appliance.lab.probe", proto, host,
                                str(port), "--timeout", str(timeout)], timeout=timeout + 10)

    def proxy_log(self) -> str:
        path = lab_layout().log / "squid" / "access.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def log(self, name: str) -> str:
        """A log file of the lab (under /run/carine-lab/log)."""
        path = lab_layout().log / name
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    @property
    def store_path(self) -> Path:
        return lab_layout().state / "state.sqlite"

    @property
    def programs(self) -> Path:
        return lab_layout().programs

    @property
    def filter_config(self) -> Path:
        return lab_layout().etc("carine/filtering.json")

    def nft(self, *args: str) -> Result:
        return self.exec("appliance", ["nft", *args])
