"""约谈记录 and 督办单 from an item's page (纪检监察 and leaders; 整改办 and leaders)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from engine.access.items import record_talk_for, supervise_for
from engine.errors import InvalidInput

from . import engine

bp = Blueprint("talks", __name__)


@bp.post("/items/<int:item_id>/talks")
@login_required
def add(item_id):
    values = {key: request.form.get(key, "") for key in ("kind", "held_on", "people", "outcome")}
    try:
        record_talk_for(engine(), current_user.id, item_id, values)
    except InvalidInput as exc:
        flash("约谈记录未保存：" + "；".join(exc.field_errors.values() or [exc.message]), "danger")
        return redirect(url_for("items.show", item_id=item_id, _anchor="talks"))
    flash("已记录约谈", "success")
    return redirect(url_for("items.show", item_id=item_id, _anchor="talks"))


@bp.post("/items/<int:item_id>/supervise")
@login_required
def supervise(item_id):
    values = {key: request.form.get(key, "") for key in ("demand", "reply_due")}
    try:
        notice = supervise_for(engine(), current_user.id, item_id, values)
    except InvalidInput as exc:
        flash("督办单未发出：" + "；".join(exc.field_errors.values() or [exc.message]), "danger")
        return redirect(url_for("items.show", item_id=item_id, _anchor="supervise"))
    flash(f"已发出督办单，回复期限 {notice['reply_due']}", "success")
    return redirect(url_for("items.show", item_id=item_id))
