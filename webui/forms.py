"""The console's forms (Flask-WTF: every one carries its CSRF token). Labels and messages are
French source strings translated by the catalogues; limits keep hostile posts small."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

# Lazy: translated when a form is shown, in the language of that request (typed as text).
_l = cast(Callable[[str], str], lazy_gettext)
REQUIRED = _l("Ce champ est obligatoire.")
MAX_MINUTES = 240  # an opening lasts a lesson or two, never the day (D-FIL-6: bounded)


class LoginForm(FlaskForm):
    login = StringField(_l("Identifiant"), validators=[DataRequired(REQUIRED), Length(max=64)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none",
                                   "spellcheck": "false"})
    password = PasswordField(_l("Mot de passe"),
                             validators=[DataRequired(REQUIRED), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(_l("Code à 6 chiffres de l'application d'authentification"),
                       validators=[DataRequired(REQUIRED),
                                   Regexp(r"^\s*\d{3}\s?\d{3}\s*$",
                                          message=_l("Le code compte 6 chiffres."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class EmptyForm(FlaskForm):
    """A button alone (logout, close an opening): the CSRF token is the whole form."""


class OpeningForm(FlaskForm):
    zone = SelectField(_l("Zone"), validators=[DataRequired(REQUIRED)])
    what = SelectField(_l("Ouvrir"), choices=[("site", _l("un site")),
                                              ("internet", _l("tout internet"))],
                       validators=[DataRequired(REQUIRED)])
    domain = StringField(_l("Site (par exemple fr.wikipedia.org)"),
                         validators=[Length(max=253, message=_l(
                             "Le nom du site est trop long (253 caractères au plus)."))],
                         render_kw={"autocapitalize": "none", "spellcheck": "false"})
    minutes = IntegerField(_l("Durée en minutes"),
                           validators=[InputRequired(_l("Indiquez une durée en minutes.")),
                                       NumberRange(5, MAX_MINUTES, _l(
                                           "La durée va de 5 à 240 minutes."))],
                           render_kw={"inputmode": "numeric"})


class RadioForm(FlaskForm):
    room = SelectField(_l("Salle"), validators=[DataRequired(REQUIRED)])
    state = SelectField(_l("Wi-Fi"), choices=[("off", _l("éteint")), ("on", _l("allumé"))],
                        validators=[DataRequired(REQUIRED)])


class DomainForm(FlaskForm):
    domain = StringField(_l("Domaine"), validators=[DataRequired(REQUIRED), Length(max=253)],
                         render_kw={"autocapitalize": "none", "spellcheck": "false"})
    action = SelectField(_l("Décision"), choices=[("allow", _l("autoriser")),
                                                  ("block", _l("bloquer"))],
                         validators=[DataRequired(REQUIRED)])


class GrantForm(FlaskForm):
    minutes = IntegerField(_l("Débloquer pour (minutes)"),
                           validators=[InputRequired(_l("Indiquez une durée en minutes.")),
                                       NumberRange(5, 60 * 24 * 30, _l(
                                           "La durée va de 5 minutes à 30 jours."))])


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Motif du refus (vu par l'élève)"),
                           validators=[DataRequired(REQUIRED), Length(max=300, message=_l(
                               "Le motif dépasse 300 caractères."))])


class SearchForm(FlaskForm):
    q = StringField(_l("Rechercher"), validators=[Length(max=64)])


class VoucherForm(FlaskForm):
    count = IntegerField(_l("Nombre de tickets"),
                         validators=[InputRequired(REQUIRED), NumberRange(1, 200, _l(
                             "De 1 à 200 tickets à la fois."))])
    minutes = IntegerField(_l("Validité d'un ticket (minutes)"),
                           validators=[InputRequired(REQUIRED), NumberRange(15, 60 * 24 * 7, _l(
                               "La validité va de 15 minutes à 7 jours."))])
    profile = SelectField(_l("Profil"), validators=[DataRequired(REQUIRED)])


class JournalForm(FlaskForm):
    reason = StringField(_l("Motif de la consultation (numéro de réquisition)"),
                         validators=[DataRequired(_l(
                             "Indiquez le motif (numéro de réquisition) avant toute recherche.")),
                             Length(min=3, max=80, message=_l(
                                 "Le motif compte de 3 à 80 caractères."))])
    kind = SelectField(_l("Recherche"), choices=[
        ("ip", _l("Qui avait l'adresse IP X à l'instant T")),
        ("host", _l("Qui a visité le site H le jour J")),
        ("user", _l("Les connexions d'une personne sur une période"))],
        validators=[DataRequired(REQUIRED)])
    value = StringField(_l("Adresse IP, site ou identifiant"),
                        validators=[DataRequired(REQUIRED), Length(max=253)])
    start = StringField(_l("Début (AAAA-MM-JJ HH:MM, heure de l'établissement)"),
                        validators=[DataRequired(REQUIRED), Length(max=16)])
    end = StringField(_l("Fin (pour une période ; AAAA-MM-JJ HH:MM)"),
                      validators=[Length(max=16)])


class SiteForm(FlaskForm):
    text = TextAreaField(_l("Fichier de site proposé (YAML)"),
                         validators=[DataRequired(REQUIRED), Length(max=256 * 1024, message=_l(
                             "Le fichier dépasse 256 Kio."))],
                         render_kw={"rows": 16, "spellcheck": "false"})


class ApplyForm(FlaskForm):
    """Apply what was checked: the digest names the checked text (no other can slip in)."""

    digest = HiddenField(validators=[DataRequired(REQUIRED), Length(min=64, max=64)])


MODES = [("auto", _l("Selon le fichier (complet ou delta)")), ("full", _l("Export complet")),
         ("delta", _l("Delta (modifications)"))]


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier AAF (XML) ou CSV"), validators=[
        FileRequired(_l("Choisissez un fichier.")),
        FileAllowed(["xml", "csv"], _l("Le fichier doit être un export AAF (.xml) ou un CSV "
                                       "(.csv)."))])
    mode = SelectField(_l("Nature de l'export"), choices=MODES, default="auto",
                       validators=[DataRequired(REQUIRED)])


class ImportApplyForm(FlaskForm):
    digest = HiddenField(validators=[DataRequired(REQUIRED), Length(min=64, max=64)])
    mode = HiddenField(validators=[DataRequired(REQUIRED)])


class DeviceForm(FlaskForm):
    mac = StringField(_l("Adresse MAC"), validators=[DataRequired(REQUIRED), Length(max=17)],
                      render_kw={"autocapitalize": "none", "spellcheck": "false"})
    name = StringField(_l("Nom de l'appareil"),
                       validators=[DataRequired(REQUIRED), Length(max=64)])
    kind = SelectField(_l("Type"), choices=[("printer", _l("imprimante")),
                                           ("board", _l("tableau interactif")),
                                           ("pc", _l("ordinateur")), ("other", _l("autre"))],
                       validators=[DataRequired(REQUIRED)])
    owner = StringField(_l("Responsable"), validators=[DataRequired(REQUIRED), Length(max=64)])
    profile = SelectField(_l("Profil de filtrage"), validators=[DataRequired(REQUIRED)])
    zone = SelectField(_l("Zone"), validators=[Length(max=32)])
