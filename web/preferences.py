"""设置: a person's own choices about being told — e-mail address, channels, the daily digest's hour."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.errors import InvalidInput
from engine.notify.preferences import get_preferences, set_preferences

from . import engine

bp = Blueprint("preferences", __name__)


@bp.get("/settings")
@login_required
def index():
    prefs = get_preferences(engine(), current_user.id)
    return render_template("settings.html", values=prefs, errors={})


@bp.post("/settings")
@login_required
def save():
    form = request.form
    try:
        set_preferences(engine(), current_user.id, form.get("email", ""), form.get("notify_email") == "1",
                        form.get("notify_webhook") == "1", form.get("digest_hour", ""))
    except InvalidInput as exc:
        values = {"email": form.get("email", ""), "notify_email": form.get("notify_email") == "1",
                  "notify_webhook": form.get("notify_webhook") == "1", "digest_hour": form.get("digest_hour", "")}
        return render_template("settings.html", values=values, errors=exc.field_errors, message=exc.message), 400
    flash("设置已保存", "success")
    return redirect(url_for("preferences.index"))
