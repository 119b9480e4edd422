"""整改台账: the item list with filters, and an item's page with its diagram, history, signatures
and evidence."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user, login_required

from engine.access import ItemFilter, diagram_for, evidence_for, filter_choices, item_for, items_for
from engine.lights import LIGHT_TEXT, LIGHTS
from engine.models import CATEGORIES, ITEM_STATUSES

from . import engine

bp = Blueprint("items", __name__)


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/items")
@login_required
def index():
    filters = ItemFilter(round_id=_int("round"), aspect_id=_int("aspect"), category=request.args.get("category") or None,
                         unit_id=_int("unit"), light=request.args.get("light") or None,
                         status=request.args.get("status") or None, search=request.args.get("q") or None)
    return render_template("items/index.html", items=items_for(engine(), current_user.id, filters), filters=filters,
                           choices=filter_choices(engine(), current_user.id), categories=CATEGORIES, lights=LIGHTS,
                           statuses=ITEM_STATUSES, light_text=LIGHT_TEXT)


@bp.get("/items/<int:item_id>")
@login_required
def show(item_id):
    return render_template("items/detail.html", item=item_for(engine(), item_id, current_user.id), light_text=LIGHT_TEXT)


@bp.get("/items/<int:item_id>/diagram")
@login_required
def diagram(item_id):
    return diagram_for(engine(), item_id, current_user.id)


@bp.get("/items/<int:item_id>/evidence/<sha256>")
@login_required
def evidence(item_id, sha256):
    name, content = evidence_for(engine(), item_id, sha256, current_user.id)
    return send_file(BytesIO(content), as_attachment=True, download_name=name, mimetype="application/octet-stream")
