"""人员管理 (/admin/users, 管理员 only, decided in the engine): list, add, edit, disable/enable, reset a
password, 移交."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.access.people import (
    add_person_for,
    handover_for,
    people_for,
    person_for,
    reset_password_for,
    set_active_for,
    update_person_for,
)
from engine.errors import InvalidInput

from . import engine

bp = Blueprint("people", __name__)
PERSON_FIELDS = ("name", "login", "unit", "password")


def _values(keys) -> dict[str, str]:
    return {key: request.form.get(key, "") for key in keys}


def _list_page(values: dict, errors: dict, message: str | None = None, status: int = 200):
    page = request.args.get("page", "")
    data = people_for(engine(), current_user.id, request.args.get("q", ""), int(page) if page.isdigit() else 1)
    return render_template("admin/users.html", data=data, values=values, errors=errors, message=message), status


def _person_page(person_id: int, errors: dict | None = None, message: str | None = None, status: int = 200):
    person = person_for(engine(), current_user.id, person_id)
    return render_template("admin/user.html", person=person, errors=errors or {}, message=message), status


@bp.get("/admin/users")
@login_required
def index():
    return _list_page({}, {})


@bp.post("/admin/users")
@login_required
def add():
    values = _values(PERSON_FIELDS)
    try:
        person = add_person_for(engine(), current_user.id, values, request.form.getlist("roles"))
    except InvalidInput as exc:
        return _list_page(values, exc.field_errors, exc.message, 400)
    flash(f"已新增 {person['name']}（{person['unit']}）" + ("，首次登录须修改密码" if values["password"] else ""), "success")
    return redirect(url_for("people.show", person_id=person["id"]))


@bp.get("/admin/users/<int:person_id>")
@login_required
def show(person_id):
    return _person_page(person_id)


@bp.post("/admin/users/<int:person_id>")
@login_required
def update(person_id):
    try:
        update_person_for(engine(), current_user.id, person_id, _values(("name", "login", "unit")),
                          request.form.getlist("roles"))
    except InvalidInput as exc:
        return _person_page(person_id, exc.field_errors, exc.message, 400)
    flash("已保存", "success")
    return redirect(url_for("people.show", person_id=person_id))


@bp.post("/admin/users/<int:person_id>/active")
@login_required
def active(person_id):
    result = set_active_for(engine(), current_user.id, person_id, request.form.get("active") == "1")
    note = f"；其名下尚有 {result['open_tasks']} 项待办，请移交" if not result["active"] and result["open_tasks"] else ""
    flash(("已启用" if result["active"] else "已停用，现有会话已结束") + note, "success")
    return redirect(url_for("people.show", person_id=person_id))


@bp.post("/admin/users/<int:person_id>/password")
@login_required
def reset_password(person_id):
    try:
        reset_password_for(engine(), current_user.id, person_id, request.form.get("temporary", ""))
    except InvalidInput as exc:
        return _person_page(person_id, exc.field_errors or {"temporary": exc.message}, exc.message, 400)
    flash("已重置密码：该人员下次登录时须修改密码", "success")
    return redirect(url_for("people.show", person_id=person_id))


@bp.post("/admin/users/<int:person_id>/handover")
@login_required
def handover(person_id):
    try:
        result = handover_for(engine(), current_user.id, person_id, _values(("to", "reason", "password")))
    except InvalidInput as exc:
        return _person_page(person_id, exc.field_errors, exc.message, 400)
    flash(f"已将{result['from']}的工作移交给{result['to']}：待办 {result['tasks']} 项，"
          f"责任人问题 {result['items_as_person']} 个，分管问题 {result['items_as_leader']} 个", "success")
    return redirect(url_for("people.show", person_id=person_id))
