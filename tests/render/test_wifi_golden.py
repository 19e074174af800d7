"""Golden files of the access points: each example's Linux APs' hostapd.conf and every AP's
settings sheet, with fixed stand-in secrets (the real ones live in the state folder only).

Regenerate after an intended change: CARINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from appliance.site import load_site
from network.wifi.hostapd import render_ap
from network.wifi.sheet import render_sheet
from tests.conftest import EXAMPLES, in_ci

pytestmark = pytest.mark.render

GOLDEN = Path(__file__).resolve().parent / "golden-wifi"
UPDATE = os.environ.get("CARINE_UPDATE_GOLDEN") == "1"


class Fixed:
    """Stand-in secrets, so that the golden files never hold real ones."""

    def radius_secret(self, client: str) -> str:
        return f"<secret RADIUS de {client}>"

    def guest_passphrase(self, ssid: str) -> str:
        return f"<phrase de passe de {ssid}>"


def rendered(example: Path) -> dict[str, str]:
    site = load_site(example)
    out = {}
    for ap in site.wifi.access_points:
        if ap.kind == "linux":
            out[f"{ap.name}.hostapd.conf"] = render_ap(site, ap.name, Fixed())
        out[f"{ap.name}.sheet.html"] = render_sheet(site, ap.name)
        out[f"{ap.name}.sheet-with-secrets.html"] = render_sheet(site, ap.name, Fixed())
    return out


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_access_points_match_golden(example: Path) -> None:
    directory = GOLDEN / example.stem
    files = rendered(example)
    if UPDATE:
        assert not in_ci(), "golden files are never rewritten in CI"
        for stale in directory.glob("*") if directory.is_dir() else []:
            if stale.name not in files:
                stale.unlink()
        for name, text in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(text, encoding="utf-8")
    kept = sorted(p.name for p in directory.glob("*")) if directory.is_dir() else []
    assert kept == sorted(files), "golden files differ in number: run make golden"
    for name, text in files.items():
        golden = (directory / name).read_text(encoding="utf-8")
        diff = "".join(difflib.unified_diff(golden.splitlines(True), text.splitlines(True),
                                            f"golden/{name}", f"rendered/{name}"))
        assert not diff, diff


def test_sheets_hold_secrets_only_when_asked() -> None:
    site = load_site(EXAMPLES / "site.yaml")
    plain, secret = render_sheet(site, "ap-cdi"), render_sheet(site, "ap-cdi", Fixed())
    assert "phrase de passe" not in plain and "secret RADIUS" not in plain
    assert "carine wifi passphrase invites" in plain and "carine radius secret bornes" in plain
    assert "&lt;phrase de passe de invites&gt;" in secret  # escaped: HTML, not text
    assert "contient des secrets" in secret
    assert '<html lang="fr">' in plain and plain.count("<h1>") == 1
