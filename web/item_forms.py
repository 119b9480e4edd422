"""整改办 adds an item (/items/new) and edits its fields that need no approval (/items/<id>/edit)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.access.item_forms import (
    EDIT_FIELDS,
    NEW_ITEM_FIELDS,
    create_item_for,
    edit_form_for,
    edit_item_for,
    new_item_form_for,
)
from engine.errors import InvalidInput
from engine.store.models import CATEGORIES

from . import engine

bp = Blueprint("item_forms", __name__)


def _new_page(values: dict, errors: dict, message: str | None = None, status: int = 200):
    return render_template("items/new.html", data=new_item_form_for(engine(), current_user.id), values=values,
                           errors=errors, message=message, categories=CATEGORIES), status


@bp.get("/items/new")
@login_required
def new():
    return _new_page({"round_id": request.args.get("round", ""), "publish": "1"}, {})


@bp.post("/items/new")
@login_required
def create():
    values = {key: request.form.get(key, "") for key in NEW_ITEM_FIELDS}
    try:
        item = create_item_for(engine(), current_user.id, values)
    except InvalidInput as exc:
        return _new_page(values, exc.field_errors, exc.message, 400)
    flash(f"已新增问题：第 {item['number']} 号 {item['title']}，其整改流程已开始", "success")
    return redirect(url_for("items.show", item_id=item["id"]))


@bp.get("/items/<int:item_id>/edit")
@login_required
def edit(item_id):
    item = edit_form_for(engine(), current_user.id, item_id)
    return render_template("items/edit.html", item=item, values=item | {"publish": "1" if item["publish"] else ""},
                           errors={})


@bp.post("/items/<int:item_id>/edit")
@login_required
def update(item_id):
    values = {key: request.form.get(key, "") for key in EDIT_FIELDS}
    try:
        result = edit_item_for(engine(), current_user.id, item_id, values)
    except InvalidInput as exc:
        item = edit_form_for(engine(), current_user.id, item_id)
        return render_template("items/edit.html", item=item, values=values, errors=exc.field_errors,
                               message=exc.message), 400
    flash("已保存" if result["changed"] else "没有修改", "success")
    return redirect(url_for("items.show", item_id=item_id))
