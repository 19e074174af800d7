"""Jinja2 environment for service templates: strict about missing values, stable whitespace.

A template sees only what its renderer hands it; it never reaches into the site on its own."""

from __future__ import annotations

from typing import Any

import jinja2

HEADER = (
    "Rendered by CARINE from the site file ({uai}). Do not edit: change site.yaml and apply."
)


def environment(package: str) -> jinja2.Environment:
    """Templates of ``package`` (its ``templates/`` folder), failing on any undefined name."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - configuration files, not HTML
    )


def render(env: jinja2.Environment, name: str, **values: Any) -> str:
    """Render template ``name`` with ``values``."""
    return env.get_template(name).render(**values)
