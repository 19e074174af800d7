"""The filtering decision, as a table: layers, time rules, allow-only, openings, and the why."""

from __future__ import annotations

from datetime import datetime

import pytest

from appliance.site.filtering import Filtering
from filtering.policy import Opening, Policy, matching_domain

pytestmark = pytest.mark.unit

MONDAY_10H = datetime(2026, 11, 23, 10, 0)
MONDAY_12H30 = datetime(2026, 11, 23, 12, 30)
MONDAY_19H = datetime(2026, 11, 23, 19, 0)
SATURDAY_10H = datetime(2026, 11, 28, 10, 0)

FILTERING = Filtering.model_validate({
    "profiles": {
        "eleve": {"audience": "pupil", "blocked_categories": ["games", "social_networks"],
                  "time_rules": [
                      {"start": "12:00", "end": "13:30", "action": "allow",
                       "categories": ["games"], "comment": "pause de midi"},
                      {"start": "18:00", "end": "24:00", "action": "block",
                       "comment": "fermé le soir"},
                  ]},
        "ecolier": {"audience": "pupil", "allow_only": True,
                    "allowed_categories": ["child", "liste_blanche"]},
        "enseignant": {"audience": "staff"},
        "invite": {"audience": "guest", "blocked_categories": []},
    },
    "national": {"blocked_domains": ["interdit.example"]},
    "exceptions": {"allow_domains": ["jeu-educatif.fr", "vpn-du-rectorat.fr"],
                   "block_domains": ["distrait.example"]},
})
OPENINGS = [
    Opening("jeux.example", zone="pedago", until=datetime(2026, 11, 23, 11, 0), by="m.dupont"),
    Opening("expire.example", zone="pedago", until=datetime(2026, 11, 23, 9, 0)),
]
POLICY = Policy(FILTERING, OPENINGS, allow_domains=["runtime-allow.fr"],
                block_domains=["runtime-block.fr"])

CASES = [
    # profile, zone, host, categories, when -> allowed, reason, layer, category/detail
    ("eleve", "pedago", "www.wikipedia.org", set(), MONDAY_10H, True, "default", "profile", ""),
    ("eleve", "pedago", "jeux.com", {"games"}, MONDAY_10H, False, "category", "profile", "games"),
    ("eleve", "pedago", "x.com", {"social_networks", "games"}, MONDAY_10H, False, "category",
     "profile", "games"),
    # National layer: nothing opens it, not even a school allow or a teacher opening.
    ("eleve", "pedago", "vpn-du-rectorat.fr", {"vpn"}, MONDAY_10H, False, "national-category",
     "national", "vpn"),
    ("enseignant", "staff", "a.interdit.example", set(), MONDAY_10H, False, "national-domain",
     "national", "interdit.example"),
    ("enseignant", "staff", "malware.example", {"malware"}, MONDAY_10H, False,
     "national-category", "national", "malware"),
    ("invite", "guest", "adult.example", {"adult"}, MONDAY_10H, False, "national-category",
     "national", "adult"),
    # Staff have no pupil floor.
    ("enseignant", "staff", "vpn.example", {"vpn"}, MONDAY_10H, True, "default", "profile", ""),
    ("enseignant", "staff", "jeux.com", {"games"}, MONDAY_10H, True, "default", "profile", ""),
    # School exceptions, from the site file and from the runtime store.
    ("enseignant", "staff", "www.distrait.example", set(), MONDAY_10H, False, "school-block",
     "school", "distrait.example"),
    ("eleve", "pedago", "runtime-block.fr", set(), MONDAY_10H, False, "school-block", "school",
     "runtime-block.fr"),
    ("eleve", "pedago", "jeu-educatif.fr", {"games"}, MONDAY_10H, True, "school-allow", "school",
     "jeu-educatif.fr"),
    ("eleve", "pedago", "runtime-allow.fr", {"games"}, MONDAY_10H, True, "school-allow", "school",
     "runtime-allow.fr"),
    # A school allow is by domain, never by suffix string.
    ("eleve", "pedago", "pasjeu-educatif.fr", {"games"}, MONDAY_10H, False, "category",
     "profile", "games"),
    # Teacher openings: for their zone, until their end.
    ("eleve", "pedago", "www.jeux.example", {"games"}, MONDAY_10H, True, "teacher-opening",
     "teacher", "jeux.example"),
    ("eleve", "cdi", "www.jeux.example", {"games"}, MONDAY_10H, False, "category", "profile",
     "games"),
    ("eleve", "pedago", "expire.example", {"games"}, MONDAY_10H, False, "category", "profile",
     "games"),
    ("eleve", "pedago", "www.jeux.example", {"games"}, MONDAY_12H30.replace(hour=11), False,
     "category", "profile", "games"),
    # Time rules: games at lunch, nothing in the evening, weekdays only.
    ("eleve", "pedago", "jeux.com", {"games"}, MONDAY_12H30, True, "default", "profile", ""),
    ("eleve", "pedago", "x.com", {"social_networks"}, MONDAY_12H30, False, "category", "profile",
     "social_networks"),
    ("eleve", "pedago", "www.wikipedia.org", set(), MONDAY_19H, False, "time-block", "profile",
     "fermé le soir"),
    ("eleve", "pedago", "www.wikipedia.org", set(), SATURDAY_10H, True, "default", "profile", ""),
    # Allow-only (young pupils): only the listed categories, and the school's allowed domains.
    ("ecolier", "pedago", "www.wikipedia.org", set(), MONDAY_10H, False, "not-allowed",
     "profile", ""),
    ("ecolier", "pedago", "www.vikidia.org", {"child"}, MONDAY_10H, True, "allowed-category",
     "profile", "child"),
    ("ecolier", "pedago", "jeu-educatif.fr", set(), MONDAY_10H, True, "school-allow", "school",
     "jeu-educatif.fr"),
]


@pytest.mark.parametrize(
    ("profile", "zone", "host", "categories", "when", "allowed", "reason", "layer", "why"),
    CASES, ids=[f"{c[0]}-{c[2]}-{c[6]}-{c[4]:%a%H%M}" for c in CASES])
def test_decision(profile, zone, host, categories, when, allowed, reason, layer, why) -> None:
    verdict = POLICY.decide(profile, zone, host, frozenset(categories), when)
    assert (verdict.allowed, verdict.reason, verdict.layer) == (allowed, reason, layer)
    assert why in (verdict.category, verdict.detail)
    assert verdict.action == ("allow" if allowed else "block")


@pytest.mark.parametrize(("host", "listed", "found"), [
    ("example.com", {"example.com"}, "example.com"),
    ("a.b.example.com", {"example.com"}, "example.com"),
    ("badexample.com", {"example.com"}, None),
    ("com", {"example.com"}, None),
    ("b.example.com", {"example.com", "b.example.com"}, "b.example.com"),
    ("example.com", set(), None),
])
def test_matching_domain(host, listed, found) -> None:
    assert matching_domain(host, frozenset(listed)) == found
