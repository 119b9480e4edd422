"""我的待办: the signed-in user's open tasks, most urgent first, with filters and paging."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from engine.access.items import inbox_page_for
from engine.ledger.lights import LIGHT_TEXT, LIGHTS
from engine.store.models import CATEGORIES
from engine.work.inbox import InboxFilter

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
    page = inbox_page_for(engine(), current_user.id, filters)
    result = page["result"]
    pages = max(1, -(-result["total"] // filters.per_page))
    return render_template("inbox/index.html", result=result, filters=filters, pages=pages,
                           choices=page["choices"], categories=CATEGORIES,
                           lights=LIGHTS, light_text=LIGHT_TEXT)
