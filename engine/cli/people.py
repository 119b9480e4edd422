"""users add / set-password / list."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main
from engine.people.directory import add_user, list_users, set_password
from engine.store.models import ROLES


@main.group()
def users():
    """用户与角色。"""


@users.command("add")
@click.argument("name")
@click.option("--unit", required=True, help="所在单位（不存在则新建）")
@click.option("--role", "roles", multiple=True, required=True, help=f"角色，可多次给出：{'、'.join(ROLES)}")
@click.option("--password", help="登录密码（至少 8 位）；不给则暂不能登录")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_add(ctx, name, unit, roles, password, as_json):
    """新增用户（已存在则补充角色）。"""
    user = add_user(ctx.engine(), name, unit, list(roles), password, actor="cli")
    emit(user, as_json, lambda u: f"{'已新增' if u['created'] else '已更新'}用户 {u['name']}（{u['unit']}）：{'、'.join(u['roles'])}")


@users.command("set-password")
@click.argument("name")
@click.option("--unit", help="同名时指定单位")
@click.option("--password", required=True, help="新密码（至少 8 位）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_set_password(ctx, name, unit, password, as_json):
    """设置用户密码。"""
    user = set_password(ctx.engine(), name, password, unit, actor="cli")
    emit(user, as_json, lambda u: f"已为 {u['name']}（{u['unit']}）设置密码")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_list(ctx, as_json):
    """列出所有用户。"""
    emit(list_users(ctx.engine()), as_json, lambda rows: "\n".join(
        f"{u['id']:>4}  {u['name']:<8} {u['unit']:<18} {'、'.join(u['roles'])}{'' if u['can_login'] else '（未设密码）'}"
        for u in rows) or "（无用户）")
