"""Login (with limited failed attempts), logout, password change."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine.errors import Forbidden, InvalidInput
from engine.people.logins import change_password, login
from engine.people.sessions import end_session, load_session

from . import client_address, engine, login_manager

bp = Blueprint("auth", __name__)


class SessionUser(UserMixin):
    """The signed-in person; Flask-Login keeps the server-side session's token (get_id), never the
    user id, so ending the session on the server signs the cookie's holder out."""

    def __init__(self, data: dict, token: str):
        self.token = token
        self.id = data["id"]
        self.name = data["name"]
        self.unit = data["unit"]
        self.unit_id = data.get("unit_id")
        self.roles = data["roles"]
        self.inbox_count = data.get("inbox_count", 0)
        self.unread_count = data.get("unread_count", 0)
        self.must_change_password = data.get("must_change_password", False)


    def get_id(self) -> str:
        return self.token


@login_manager.user_loader
def _load(token: str):
    data = load_session(engine(), token)
    return SessionUser(data, token) if data else None


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("inbox.index")


@bp.get("/")
def home():
    return redirect(url_for("inbox.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    if request.method == "GET":
        return render_template("auth/login.html", form={}, errors={})
    form = {k: request.form.get(k, "") for k in ("name", "unit")}
    try:
        user = login(engine(), form["name"], request.form.get("password", ""), form["unit"], client_address())
    except (Forbidden, InvalidInput) as exc:
        errors = getattr(exc, "field_errors", {})
        return render_template("auth/login.html", form=form, errors=errors, message=exc.message), 400 if errors else 403
    session.clear()  # nothing of an earlier session survives into this one
    login_user(SessionUser(user, user["session_token"]))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_session(engine(), current_user.token)
    logout_user()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    try:
        change_password(engine(), current_user.id, request.form.get("old", ""), request.form.get("new", ""),
                        request.form.get("repeat", ""), client_address(), keep_session=current_user.token)
    except InvalidInput as exc:
        return render_template("auth/password.html", errors=exc.field_errors, message=exc.message), 400
    flash("密码已修改", "success")
    return redirect(url_for("inbox.index"))
