"""One switch for the lab (issue 12 point 7): ``carine --lab`` (or CARINE_LAB=1) gives every
command the lab's site, rendered files and state; and every ``carine`` line the README shows in
a code block parses as typed."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from appliance import paths
from appliance.cli import main, parser
from appliance.lab.topology import lab_site
from appliance.render import render_tree
from appliance.render.layout import Layout, installed_programs
from appliance.site import load_site
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"\s*(?:\.venv/bin/)?carine\s")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lab folder as `lab up` leaves it: the record, the rendered tree, an empty state."""
    lab = tmp_path_factory.mktemp("lab") / "carine-lab"
    layout = Layout(lab / "tree", lab / "state", lab / "run", lab / "log", installed_programs())
    render_tree(lab_site(load_site(EXAMPLES / "site.yaml")), layout.config, layout)
    (lab / "state").mkdir()
    (lab / "state.json").write_text(json.dumps({"site": str(EXAMPLES / "site.yaml")}),
                                    encoding="utf-8")
    return lab


@pytest.fixture
def lab(rendered: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(paths, "LAB_DIR", rendered)
    monkeypatch.delenv(paths.LAB_ENV, raising=False)
    return rendered


def test_plain_commands_against_the_lab(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lab", "wifi", "status"]) == 0
    out = capsys.readouterr().out
    assert "ap-cdi" in out and "(no decision yet)" in out
    assert (lab / "state" / "state.sqlite").exists()  # the lab's store, not /var/lib/carine
    assert main(["--lab", "users", "list", "--profile", "eleve"]) == 0
    assert "0 account(s)" in capsys.readouterr().out
    assert main(["--lab", "filter", "openings"]) == 0
    assert capsys.readouterr().out == "no running opening\n"
    assert main(["--lab", "radius", "cert", "list"]) == 0
    assert main(["--lab", "journal", "roles"]) == 0
    assert (lab / "state" / "journal").is_dir()  # the journal.json the lab rendered


def test_the_environment_switches_too(lab: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(paths.LAB_ENV, "1")  # as inside `carine lab exec`
    assert main(["wifi", "status"]) == 0
    assert "ap-cdi" in capsys.readouterr().out


def test_lab_defaults_and_explicit_options(lab: Path, tmp_path: Path) -> None:
    args = parser().parse_args(["--lab", "wifi", "status"])
    paths.resolve_defaults(args, paths.Paths.of_lab())
    assert (args.site, args.state) == (EXAMPLES / "site.yaml", lab / "state")
    args = parser().parse_args(["--lab", "wifi", "status", "--state", str(tmp_path)])
    paths.resolve_defaults(args, paths.Paths.of_lab())
    assert args.state == tmp_path  # what is typed wins
    args = parser().parse_args(["radius", "prepare"])
    paths.resolve_defaults(args, paths.Paths.system())
    assert args.config == Path("/etc/carine/freeradius")
    # The 802.1X corner's own copy of the site, once it is up (schedules always on).
    record = json.loads((lab / "state.json").read_text())
    record["info"] = {"wifi": {"site": "/run/x/site.yaml", "ap": "ap-cdi", "ctrl": "/c",
                               "port": "p1"}}
    (tmp_path / "state.json").write_text(json.dumps(record))
    corner = paths.Paths.of_lab(tmp_path)
    assert corner.site == Path("/run/x/site.yaml")
    assert corner.local_aps() == ["ap-cdi=/c:p1"]
    assert paths.Paths.system().local_aps() == []


def test_no_lab_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(paths, "LAB_DIR", tmp_path / "carine-lab")
    assert main(["--lab", "wifi", "status"]) == 1
    err = capsys.readouterr().err
    assert "no lab is up" in err and "make lab" in err


def test_help_shows_the_system_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["wifi", "status", "--help"])
    out = capsys.readouterr().out
    assert "/etc/carine/site.yaml" in out and "/var/lib/carine" in out


def readme_commands() -> list[str]:
    """``carine`` lines of the README's code blocks, continuations joined, comments (two spaces
    then ``#``) removed; diagrams left out."""
    found, block, pending = [], False, ""
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            block = not block
            continue
        if not block or "──" in line:
            continue
        if pending:
            line, pending = pending + " " + line.strip(), ""
        elif not COMMAND.match(line):
            continue
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        found.append(line.split("  #")[0].strip())
    return found


def test_every_readme_command_parses_as_typed() -> None:
    lines = readme_commands()
    assert len(lines) > 50 and "carine --lab wifi status" in lines
    for line in lines:
        argv = shlex.split(line)[1:]
        try:
            args = parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"README line does not parse: {line}")
        if args.command == "lab" and args.lab_command == "exec" and "carine" in args.cmd:
            inner = args.cmd[args.cmd.index("carine") + 1:]
            try:
                parser().parse_args(inner)
            except SystemExit:
                pytest.fail(f"README line does not parse: {line}")
