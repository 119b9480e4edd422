"""The task page (a form from the step's JSON Schema) and the sign-off page for gates."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.errors import InvalidInput
from engine.work.completion import complete_task
from engine.work.inbox import task_detail, task_form
from engine.work.review import signoff_context

from . import engine
from .formdata import parse

bp = Blueprint("tasks", __name__)


def _form_values(detail: dict) -> dict:
    """What the form starts with: the data the process carries for the step's fields (so a task
    returned with 退回 comes back filled in)."""
    fields = (detail["form"] or {}).get("properties", {})
    return {k: v for k, v in detail["data"].items() if k in fields}


def _render(detail: dict, values: dict, errors: dict, message: str | None = None, status: int = 200):
    if detail["signoff"]:
        review = signoff_context(engine(), detail["id"], current_user.id)
        return render_template("tasks/signoff.html", task=detail, review=review, values=values, errors=errors,
                               message=message), status
    return render_template("tasks/form.html", task=detail, values=values, errors=errors, message=message), status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id):
    detail = task_detail(engine(), task_id, current_user.id)
    return _render(detail, {} if detail["signoff"] else _form_values(detail), {})


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id):
    data, uploads = parse(task_form(engine(), task_id, current_user.id) or {"properties": {}}, request.form,
                          request.files)
    try:
        result = complete_task(engine(), task_id, data, current_user.id, request.form.get("password"), tuple(uploads))
    except InvalidInput as exc:
        return _render(task_detail(engine(), task_id, current_user.id), data, exc.field_errors, exc.message, 400)
    text = f"已办理：{result['step']}" + (f"（{result['decision']}）" if result["decision"] else "")
    if result["item_status"] == "已销号":
        text += "。该问题已销号。"
    flash(text, "success")
    return redirect(url_for("inbox.index"))
