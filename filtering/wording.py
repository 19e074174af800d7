"""What the block page says, in plain French: UT1 category and profile labels, why a reason
code blocked a site, and dates as people write them (D-UI-2: French first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from appliance.clock import changes_offset, to_local, utc_offset, zone

UT1 = "listes de l'Université Toulouse 1 Capitole"

# The UT1 categories people meet most; any other is shown under its own name.
CATEGORIES = {
    "adult": "adultes", "mixed_adult": "contenus pour adultes mêlés",
    "games": "jeux", "educational_games": "jeux éducatifs", "gambling": "jeux d'argent",
    "arjel": "jeux d'argent agréés", "social_networks": "réseaux sociaux",
    "audio-video": "audio et vidéo", "radio": "radio", "dating": "rencontres",
    "vpn": "réseaux privés virtuels (VPN)", "redirector": "contournement du filtrage",
    "strict_redirector": "contournement du filtrage", "strong_redirector":
        "contournement du filtrage", "doh": "DNS chiffré (contournement)",
    "remote-control": "prise de contrôle à distance", "malware": "logiciels malveillants",
    "phishing": "hameçonnage", "cryptojacking": "minage de cryptomonnaie",
    "stalkerware": "logiciels espions", "ddos": "attaques informatiques",
    "warez": "téléchargement illégal", "hacking": "piratage", "drogue": "drogues",
    "agressif": "contenus agressifs", "violence": "violence", "sect": "sectes",
    "dangerous_material": "matériel dangereux", "chat": "messagerie instantanée",
    "webmail": "messagerie en ligne", "shopping": "achats en ligne", "sports": "sport",
    "ai": "intelligence artificielle", "blog": "blogs", "forums": "forums",
    "press": "presse", "download": "téléchargement", "publicite": "publicité",
    "lingerie": "lingerie", "celebrity": "célébrités", "manga": "mangas",
    "astrology": "astrologie", "financial": "finance", "bank": "banque",
    "jobsearch": "recherche d'emploi", "shortener": "raccourcisseurs d'adresses",
    "translation": "traduction", "child": "sites pour enfants", "liste_blanche": "liste blanche",
    "sexual_education": "éducation sexuelle", "fakenews": "fausses informations",
}  # fmt: skip
PROFILES = {"eleve": "élève", "ecolier": "écolier", "enseignant": "enseignant",
            "personnel": "personnel", "invite": "invité"}
NATIONAL = ("national-domain", "national-category")
# Reasons an unblock request makes sense for ("" is a block whose reason we do not know).
REQUESTABLE = ("category", "school-block", "time-block", "not-allowed", "")
BLOCK_REASONS = (*NATIONAL, *REQUESTABLE[:-1], "filter-unavailable")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def category_label(category: str) -> str:
    return CATEGORIES.get(category, category)


def profile_label(profile: str) -> str:
    return PROFILES.get(profile, profile)


def typeset(text: str) -> str:
    """French typography: no line break between « » and their words, nor before : or ?."""
    return (text.replace("« ", "«\u00a0").replace(" »", "\u00a0»").replace(" :", "\u00a0:")
            .replace(" ?", "\u00a0?"))


@dataclass(frozen=True)
class Explanation:
    """Why a site is blocked: one sentence for the page, a short one for the table, and what to
    say instead of the request form when the school cannot lift the block (empty: it can)."""

    text: str
    short: str
    no_request: str = ""


def explain(reason: str, category: str = "", profile: str = "") -> Explanation:
    """The explanation of a block, whatever the reason code (unknown codes get a generic one)."""
    plain = _explain(reason, category, profile)
    return Explanation(typeset(plain.text), typeset(plain.short), typeset(plain.no_request))


def _explain(reason: str, category: str, profile: str) -> Explanation:
    who = f"le profil {profile_label(profile)}" if profile else "votre profil"
    cat = f"« {category_label(category)} »"
    if reason == "category":
        if not category:
            return Explanation(f"Ce site fait partie d'une catégorie bloquée pour {who}.",
                               "Catégorie bloquée")
        return Explanation(f"Ce site est classé dans la catégorie {cat} ({UT1}), bloquée pour "
                           f"{who}.", "Catégorie bloquée")
    if reason == "national-category":
        where = f"est classé dans la catégorie {cat} ({UT1}), qui" if category else ""
        return Explanation(
            f"Ce site {where or 'appartient à une catégorie qui'} est bloquée au niveau national "
            f"pour {who}, par l'académie et le ministère.",
            "Bloqué au niveau national",
            "L'établissement ne peut pas débloquer ce site : ce blocage est décidé par "
            "l'académie et le ministère pour protéger les élèves.")
    if reason == "national-domain":
        return Explanation(
            "Ce site est bloqué pour tous les utilisateurs par l'académie ou le ministère.",
            "Bloqué au niveau national",
            "L'établissement ne peut pas débloquer ce site : ce blocage est décidé par "
            "l'académie ou le ministère.")
    if reason == "school-block":
        return Explanation("L'établissement a choisi de bloquer ce site.",
                           "Bloqué par l'établissement")
    if reason == "time-block":
        return Explanation(f"L'accès est fermé à cette heure pour {who} : l'établissement fixe "
                           "les horaires d'accès à internet.", "Accès fermé à cette heure")
    if reason == "not-allowed":
        return Explanation(f"Pour {who}, seuls les sites autorisés par l'établissement sont "
                           "accessibles, et celui-ci n'en fait pas partie.",
                           "Hors des sites autorisés")
    if reason == "filter-unavailable":
        return Explanation(
            "Le filtrage est momentanément indisponible : par sécurité, l'accès à internet est "
            "refusé.", "Filtrage indisponible",
            "Il n'y a rien à débloquer : réessayez dans quelques minutes. Si cela dure, "
            "prévenez le référent numérique.")
    return Explanation("Ce site est bloqué par le filtrage de l'établissement.", "Site bloqué")


def french_datetime(when: datetime, tz: str | ZoneInfo) -> str:
    """``lundi 23 novembre 2026 à 10 h 05`` in the school's zone ``tz`` (``when`` is aware);
    on a day the clocks change, the offset follows (``à 2 h 30 (UTC+01:00)``)."""
    local = to_local(when, tz)
    return (f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year} "
            f"à {french_time(when, tz)}")


def french_time(when: datetime, tz: str | ZoneInfo) -> str:
    """``10 h 05`` in the school's zone ``tz``, with the offset on a day the clocks change."""
    local = to_local(when, tz)
    text = f"{local.hour} h {local.minute:02d}"
    if changes_offset(local.date(), zone(tz)):
        text += f" ({utc_offset(local)})"
    return text
