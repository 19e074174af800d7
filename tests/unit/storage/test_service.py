"""The storage service's declarations: opening only from the zones the site names (a guest
zone refused by the site checks), storage.json through its codec, the daemon's unit and the
backup timers when backups are on."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import SiteInvalid
from appliance.render.layout import Layout
from appliance.render.service import Opening
from appliance.render.units import Timer, Unit
from storage.config import StorageConfig
from storage.service import config, service
from tests.conftest import lycee_variant

pytestmark = pytest.mark.unit
BASE = {"enabled": True, "zones": ["pedago", "staff"]}


def test_opening_and_config() -> None:
    site = lycee_variant(storage=BASE)
    (opening,) = service.openings(site)
    assert isinstance(opening, Opening)
    assert opening.zones == ("pedago", "staff") and opening.ports == (8444,)
    cfg = config(site, Layout.system())
    assert StorageConfig.model_validate_json(cfg.dump()) == cfg
    assert cfg.quotas.of("x", "pupil") == 500_000_000
    assert service.openings(lycee_variant(storage={"enabled": False})) == ()


def test_guest_and_unknown_zones_refused() -> None:
    with pytest.raises(SiteInvalid) as caught:
        lycee_variant(storage={"enabled": True, "zones": ["guest", "nulle-part"]})
    text = str(caught.value) + "".join(str(p) for p in getattr(caught.value, "problems", []))
    assert "guest" in text and "nulle-part" in text


def test_backup_units_and_timers(tmp_path: Path) -> None:
    site = lycee_variant(storage={**BASE, "backup": {"enabled": True,
                                                     "repository": "/srv/sauvegarde/carine"}})
    declared = service.units(site, Layout.in_tree(tmp_path))
    timers = {u.name: u.on_calendar for u in declared if isinstance(u, Timer)}
    assert timers == {"backup-daily": "*-*-* 02:30:00 Europe/Paris",
                      "backup-monthly": "*-*-01 04:00:00 Europe/Paris"}
    monthly = next(u for u in declared if isinstance(u, Unit) and u.name == "backup-monthly")
    assert monthly.kind == "oneshot" and monthly.argv[-2:] == ("run", "--full")
    with pytest.raises(SiteInvalid):
        lycee_variant(storage={**BASE, "backup": {"enabled": True}})
