"""我的待办: the signed-in user's open tasks, most urgent first, with filters and paging."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_login import current_user, login_required

from engine.access.items import filter_choices
from engine.ledger.lights import LIGHT_TEXT, LIGHTS
from engine.store.models import CATEGORIES
from engine.work.inbox import InboxFilter, inbox

from . import engine

bp = Blueprint("inbox", __name__)


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/inbox")
@login_required
def index():
    filters = InboxFilter(round_id=_int("round"), category=request.args.get("category") or None,
                          light=request.args.get("light") or None, page=_int("page") or 1, per_page=20)
    result = inbox(engine(), current_user.id, filters)
    if not (filters.round_id or filters.category or filters.light):
        g.inbox_count = result["total"]  # the navigation bar's count: no second query on this page
    pages = max(1, -(-result["total"] // filters.per_page))
    return render_template("inbox/index.html", result=result, filters=filters, pages=pages,
                           choices=filter_choices(engine(), current_user.id), categories=CATEGORIES,
                           lights=LIGHTS, light_text=LIGHT_TEXT)
