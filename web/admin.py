"""系统管理 (管理员 only, decided in the engine): the signing certificate in use, the audit chain's
state and counts."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from engine.access.records import admin_overview

from . import engine

bp = Blueprint("admin", __name__)


@bp.get("/admin")
@login_required
def index():
    return render_template("admin/index.html", overview=admin_overview(engine(), current_user.id))
