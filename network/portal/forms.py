"""The portal's forms (Flask-WTF: every form carries its CSRF token), with French labels and
messages; the limits keep a hostile client from posting megabytes into a login."""

from __future__ import annotations

from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

REQUIRED = "Ce champ est obligatoire."
F = TypeVar("F", bound=FlaskForm)


def new(cls: type[F]) -> F:
    """A form bound to the current request (Flask-WTF has no annotations: typed here once)."""
    return cls()


def submitted(form: FlaskForm) -> bool:
    """Posted, with a valid CSRF token and valid fields."""
    return bool(form.validate_on_submit())  # type: ignore[no-untyped-call]


def value(field: Any) -> str:
    """A field's value as text ("" when absent)."""
    return str(field.data or "")


class LoginForm(FlaskForm):
    login = StringField("Identifiant", validators=[DataRequired(REQUIRED), Length(max=64)],
                        render_kw={"autocomplete": "username", "autocapitalize": "none",
                                   "spellcheck": "false"})
    password = PasswordField("Mot de passe",
                             validators=[DataRequired(REQUIRED), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class CharterForm(FlaskForm):
    accept = BooleanField("J'ai lu la charte d'usage et je m'engage à la respecter",
                          validators=[DataRequired("Cochez la case pour accepter la charte.")])


class PasswordForm(FlaskForm):
    current = PasswordField("Mot de passe actuel", validators=[Length(max=256)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("Nouveau mot de passe",
                        validators=[DataRequired(REQUIRED), Length(max=256)],
                        render_kw={"autocomplete": "new-password",
                                   "aria-describedby": "aide-mdp"})
    confirm = PasswordField("Confirmez le nouveau mot de passe",
                            validators=[DataRequired(REQUIRED),
                                        EqualTo("new", "Les deux mots de passe diffèrent.")],
                            render_kw={"autocomplete": "new-password"})


class VoucherForm(FlaskForm):
    code = StringField("Code du ticket", validators=[DataRequired(REQUIRED), Length(max=32)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false", "aria-describedby": "aide-code"})
    accept = BooleanField("J'ai lu la charte d'usage et je m'engage à la respecter",
                          validators=[DataRequired("Cochez la case pour accepter la charte.")])


class LogoutForm(FlaskForm):
    pass
