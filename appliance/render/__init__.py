"""Render and check: turn a ``Site`` into configuration files and let the real tools judge them.

Services plug in through the ``carine.services`` entry points (see ``service.Service``)."""

from appliance.render.check import check_tree
from appliance.render.layout import Layout
from appliance.render.pipeline import render_files, render_tree
from appliance.render.service import (
    CheckResult,
    Contribution,
    Opening,
    Redirect,
    RenderContext,
    Service,
    load_services,
)

__all__ = [
    "CheckResult", "Contribution", "Layout", "Opening", "Redirect", "RenderContext", "Service",
    "check_tree",
    "load_services", "render_files", "render_tree",
]
