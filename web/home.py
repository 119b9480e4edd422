"""The landing page: what this is and how the ledger stands."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from engine.ledger import list_items
from engine.lights import LIGHTS

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    from . import engine_of

    items = list_items(engine_of(current_app))
    counts = {light: sum(1 for i in items if i["light"] == light) for light in LIGHTS}
    return render_template("home/index.html", items=items, counts=counts)


@bp.get("/healthz")
def healthz():
    return {"ok": True}
