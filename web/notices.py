"""站内通知: the signed-in person's notifications, newest first; opening one marks it read and goes to
its task (if still open) or its item."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.notify.centre import mark_read, notifications_of

from . import engine

bp = Blueprint("notices", __name__)


@bp.get("/notifications")
@login_required
def index():
    data = notifications_of(engine(), current_user.id, unread_only=request.args.get("unread") == "1")
    return render_template("notices/index.html", data=data, unread_only=request.args.get("unread") == "1")


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_one(notification_id):
    note = mark_read(engine(), current_user.id, notification_id)
    if note["task_open"]:  # a task done meanwhile: its item instead
        return redirect(url_for("tasks.show", task_id=note["task_id"]))
    return redirect(url_for("items.show", item_id=note["item_id"]) if note["item_id"] else url_for("notices.index"))


@bp.post("/notifications/read")
@login_required
def read_all():
    mark_read(engine(), current_user.id)
    return redirect(url_for("notices.index"))
