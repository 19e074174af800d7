"""A portal on a temporary store, with the firewall replaced by a recorder of nft batches (these
are unit tests: the real nft is exercised by the lab tests) and the journal by a list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from appliance.directory import accounts, people
from appliance.render.layout import Layout
from appliance.run import Result
from appliance.site import Site
from network.portal.access import Access, Events
from network.portal.app import create_app
from network.portal.config import PortalConfig, render_config
from network.portal.nftset import NftSets

PUPIL_IP = "10.40.0.50"


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


class Recorded(Events):
    def __init__(self) -> None:
        super().__init__(None)
        self.records: list[tuple[str, dict[str, Any]]] = []

    def write(self, kind: str, fields: Any) -> None:
        self.records.append((kind, dict(fields)))


class FakeNft:
    """Records batches; answers `list set` with the elements added and not deleted since."""

    def __init__(self) -> None:
        self.batches: list[str] = []
        self.members: dict[str, int] = {}
        self.handle = 7

    def __call__(self, argv: Sequence[str], text: str) -> Result:
        if "-j" in argv:
            elems = [{"elem": {"val": ip, "timeout": t, "expires": t}}
                     for ip, t in self.members.items()]
            doc = {"nftables": [{"set": {"name": "authorised", "handle": self.handle,
                                         "elem": elems}}]}
            import json
            return Result(tuple(argv), 0, json.dumps(doc), "")
        self.batches.append(text)
        for line in text.splitlines():
            # add|delete element inet carine SET { IP [timeout Ns] }
            words = line.split()
            if words[4] != "authorised":
                continue
            ip = words[6]
            if words[0] == "add" and "timeout" in words:
                self.members[ip] = int(words[8].rstrip("s"))
            elif words[0] == "delete":
                self.members.pop(ip, None)
        return Result(tuple(argv), 0, "", "")


@pytest.fixture
def portal_config(tmp_path: Path, lycee_site: Site) -> PortalConfig:
    layout = Layout.in_tree(tmp_path)
    path = tmp_path / "portal.json"
    path.write_text(render_config(lycee_site, layout), encoding="utf-8")
    (tmp_path / "var/lib/carine").mkdir(parents=True)
    return PortalConfig.load(path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def nft() -> FakeNft:
    return FakeNft()


@pytest.fixture
def access(portal_config: PortalConfig, nft: FakeNft, clock: Clock) -> Access:
    sets = NftSets(sorted(portal_config.idle_sets.values()), runner=nft)
    return Access(portal_config, sets, Recorded(), clock=clock)


def make_account(access: Access, login: str, profile: str, password: str, *,
                 charter: bool = True, must_change: bool = False) -> int:
    conn = access.conn()
    person = people.Person(None, f"local-{login}", "local", "Test", login, profile)
    now = access.clock()
    person_id, _ = people.upsert(conn, person, now)
    account_id = accounts.create(conn, person_id, login, password, now)
    accounts.set_password(conn, account_id, password, now, must_change=must_change)
    if charter:
        accounts.acknowledge_charter(conn, account_id, access.config.charter_version, 0)
    conn.commit()
    return account_id


@pytest.fixture
def app(access: Access):
    flask_app = create_app(access, b"k" * 32, secret_key="s" * 64, monotonic=lambda: 0.0)
    flask_app.config["TESTING"] = True
    return flask_app


def at(app, ip: str = PUPIL_IP, host: str = "carine.perrin.lan:8090"):
    """A test client at address ``ip``, asking for ``host``."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip})
    return Visitor(client, f"http://{host}")


class Visitor:
    """A test client whose requests name ``base`` as the host they are for."""

    def __init__(self, client: Any, base: str) -> None:
        self.client, self.base = client, base

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, base_url=self.base, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post(path, base_url=self.base, **kw)


@pytest.fixture
def browser(app):
    """A client at a pupil's address of the guest (portal) zone, reaching the portal by name."""
    return at(app)
