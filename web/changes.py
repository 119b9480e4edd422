"""变更申请 and 转办 from the item page. The approval itself is an ordinary sign-off in the approver's
inbox (web/tasks.py)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.access.changes import CHANGE_FIELDS, KINDS, change_form_for, reassign_for, request_change_for
from engine.errors import InvalidInput
from engine.store.models import CATEGORIES

from . import engine

bp = Blueprint("changes", __name__)


def _page(item_id: int, values: dict, errors: dict, message: str | None = None, status: int = 200):
    item = change_form_for(engine(), current_user.id, item_id)
    return render_template("items/change.html", item=item, values=values, errors=errors, message=message,
                           kinds=KINDS, categories=CATEGORIES), status


@bp.get("/items/<int:item_id>/change")
@login_required
def form(item_id):
    return _page(item_id, {"kind": request.args.get("kind", "extend")}, {})


@bp.post("/items/<int:item_id>/change")
@login_required
def submit(item_id):
    values = {key: request.form.get(key, "") for key in CHANGE_FIELDS}
    try:
        change = request_change_for(engine(), current_user.id, item_id, values)
    except InvalidInput as exc:
        return _page(item_id, values, exc.field_errors, exc.message, 400)
    flash(f"已提交变更申请（{change['kind']}），待{change['approver_role']}签字审批", "success")
    return redirect(url_for("items.show", item_id=item_id, _anchor="changes"))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id):
    item_id = request.form.get("item_id", type=int)
    try:
        moved = reassign_for(engine(), current_user.id, task_id, request.form.get("to", ""), request.form.get("reason", ""))
    except InvalidInput as exc:
        flash(f"未转办：{exc.message}", "danger")
        return redirect(url_for("items.show", item_id=item_id, _anchor="open-tasks")) if item_id else (exc.message, 400)
    flash(f"已转办：{moved['step']}，{moved['from']} → {moved['to']}", "success")
    return redirect(url_for("items.show", item_id=moved["item_id"], _anchor="open-tasks"))
