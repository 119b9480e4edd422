"""整改台账: the item list with filters, and an item's page with its diagram, history, signatures,
evidence and closure records (销号单)."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from engine.access.items import (
    ItemFilter,
    diagram_for,
    evidence_for,
    evidence_thumbnail_for,
    export_items_for,
    item_page_for,
    items_page_for,
    set_public_accountability_for,
)
from engine.access.records import closure_file_for, generate_closure_for, signature_chain_for
from engine.errors import InvalidInput
from engine.ledger.lights import LIGHT_TEXT, LIGHTS
from engine.store.models import ALL_ITEM_STATUSES, CATEGORIES

from . import engine

bp = Blueprint("items", __name__)


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filters() -> ItemFilter:
    """The list's filters from the query string (the page and its export read the same ones)."""
    return ItemFilter(round_id=_int("round"), aspect_id=_int("aspect"), category=request.args.get("category") or None,
                      unit_id=_int("unit"), light=request.args.get("light") or None,
                      status=request.args.get("status") or None, search=request.args.get("q") or None,
                      overdue=request.args.get("overdue") == "1", page=_int("page") or 1)


@bp.get("/items")
@login_required
def index():
    filters = _filters()
    page = items_page_for(engine(), current_user.id, filters)
    return render_template("items/index.html", items=page["result"]["items"], paging=page["result"], filters=filters,
                           may_add=page["may_add"],
                           choices=page["choices"], categories=CATEGORIES, lights=LIGHTS,
                           statuses=ALL_ITEM_STATUSES, light_text=LIGHT_TEXT)


@bp.get("/items/export.xlsx")
@login_required
def export():
    """Every item the filters match that the user may see (not one page), streamed from a temporary file."""
    name, file = export_items_for(engine(), current_user.id, _filters())
    return send_file(file, as_attachment=True, download_name=name, max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/items/<int:item_id>")
@login_required
def show(item_id):
    return render_template("items/detail.html", item=item_page_for(engine(), item_id, current_user.id),
                           light_text=LIGHT_TEXT)


@bp.get("/items/<int:item_id>/diagram")
@login_required
def diagram(item_id):
    return diagram_for(engine(), item_id, current_user.id)


@bp.get("/items/<int:item_id>/evidence/<sha256>")
@login_required
def evidence(item_id, sha256):
    name, content = evidence_for(engine(), item_id, sha256, current_user.id)
    return send_file(BytesIO(content), as_attachment=True, download_name=name, mimetype="application/octet-stream")


@bp.get("/items/<int:item_id>/evidence/<sha256>/thumbnail")
@login_required
def evidence_thumbnail(item_id, sha256):
    content, mimetype = evidence_thumbnail_for(engine(), item_id, sha256, current_user.id)
    response = send_file(BytesIO(content), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=86400"  # the file is named by its SHA-256: it never changes
    return response


@bp.get("/items/<int:item_id>/closure/<int:document_id>.pdf")
@login_required
def closure(item_id, document_id):
    document, pdf = closure_file_for(engine(), item_id, document_id, current_user.id)
    return send_file(BytesIO(pdf), as_attachment=True, download_name=document["filename"], mimetype="application/pdf")


@bp.post("/items/<int:item_id>/closure")
@login_required
def generate_closure(item_id):
    document = generate_closure_for(engine(), item_id, current_user.id)
    flash(f"已生成新的销号单（核验码 {document['verification_code']}），此前的销号单仍保留", "success")
    return redirect(url_for("items.show", item_id=item_id, _anchor="closure"))


@bp.get("/items/<int:item_id>/signatures.json")
@login_required
def signatures(item_id):
    return send_file(BytesIO(signature_chain_for(engine(), item_id, current_user.id)), as_attachment=True,
                     download_name=f"签字链_问题{item_id}.json", mimetype="application/json")


@bp.post("/items/<int:item_id>/accountability")
@login_required
def public_accountability(item_id):
    try:
        set_public_accountability_for(engine(), item_id, current_user.id, request.form.get("text", ""))
    except InvalidInput as exc:
        flash(f"{exc.message}：{'；'.join(exc.field_errors.values())}", "danger")
        return redirect(url_for("items.show", item_id=item_id, _anchor="public-accountability"))
    flash("已保存：整改进展情况公布" + ("将单独公开所填的问责情况" if request.form.get("text", "").strip() else "不公开问责情况"),
          "success")
    return redirect(url_for("items.show", item_id=item_id, _anchor="public-accountability"))
