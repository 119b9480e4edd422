"""users add / set-password / list / disable / enable / move / revoke / handover."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main
from engine.notify.centre import notifications_of
from engine.notify.preferences import check_email, set_email
from engine.people.admin import handover, move_user, revoke_role, set_active
from engine.people.directory import add_user, list_users, set_password, user_id_of
from engine.store.models import ROLES


@main.group()
def users():
    """用户与角色。"""


@users.command("add")
@click.argument("name")
@click.option("--unit", required=True, help="所在单位（不存在则新建）")
@click.option("--role", "roles", multiple=True, required=True, help=f"角色，可多次给出：{'、'.join(ROLES)}")
@click.option("--password", help="登录密码（至少 8 位）；不给则暂不能登录")
@click.option("--login", help="登录名（默认为姓名；有同名人员时须另设）")
@click.option("--email", help="电子邮箱（用于邮件通知和每日摘要）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_add(ctx, name, unit, roles, password, login, email, as_json):
    """新增用户（已存在则补充角色，给出 --login 则设置其登录名）。"""
    engine = ctx.engine()
    check_email(email)  # before anything is written
    with engine.db.transaction():
        user = add_user(engine, name, unit, list(roles), password, actor="cli", login=login)
        if email:
            user |= {"email": set_email(engine, name, email, "cli", unit)["email"]}
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
        f"{u['id']:>4}  {u['name']:<8} {(u['login'] or '—'):<12} {u['unit']:<18} {'、'.join(u['roles'])}{'' if u['can_login'] else ('（已停用）' if not u['active'] else '（未设密码）')}"
        for u in rows) or "（无用户）")


def _user_line(u: dict) -> str:
    return f"{u['name']}（{u['unit']}）：{'、'.join(u['roles']) or '无角色'}{'' if u.get('active', True) else '，已停用'}"


@users.command("disable")
@click.argument("name")
@click.option("--unit", help="同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_disable(ctx, name, unit, as_json):
    """停用账号：不能再登录或签字，现有会话立即结束；历史和签字记录保留。"""
    result = set_active(ctx.engine(), name, False, "cli", unit)
    emit(result, as_json, lambda u: f"已停用 {_user_line(u)}" + (
        f"；其名下尚有 {u['open_tasks']} 项待办，请用 rectify users handover 移交" if u["open_tasks"] else ""))


@users.command("enable")
@click.argument("name")
@click.option("--unit", help="同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_enable(ctx, name, unit, as_json):
    """启用已停用的账号。"""
    emit(set_active(ctx.engine(), name, True, "cli", unit), as_json, lambda u: f"已启用 {_user_line(u)}")


@users.command("move")
@click.argument("name")
@click.option("--unit", "to_unit", required=True, help="调入的单位（须已存在）")
@click.option("--from-unit", help="同名时指定现在的单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_move(ctx, name, to_unit, from_unit, as_json):
    """调岗：把人员调到另一单位（其负责的问题须另行移交或申请变更）。"""
    emit(move_user(ctx.engine(), name, to_unit, "cli", from_unit), as_json, lambda u: f"已调整 {_user_line(u)}")


@users.command("revoke")
@click.argument("name")
@click.option("--role", required=True, help=f"要取消的角色：{'、'.join(ROLES)}")
@click.option("--unit", help="同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_revoke(ctx, name, role, unit, as_json):
    """取消人员的一个角色。"""
    emit(revoke_role(ctx.engine(), name, role, "cli", unit), as_json, lambda u: f"已取消角色，现为 {_user_line(u)}")


@users.command("handover")
@click.argument("name")
@click.option("--to", "successor", required=True, help="接任人")
@click.option("--as", "as_user", required=True, help="操作人（管理员）")
@click.option("--reason", required=True, help="移交理由，如 换届、调岗")
@click.option("--password", help="操作人的密码，确认移交")
@click.option("--unit", help="移交人同名时指定单位")
@click.option("--to-unit", help="接任人同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_handover(ctx, name, successor, as_user, reason, password, unit, to_unit, as_json):
    """移交：把一个人的全部待办和其负责（责任人、分管领导）的未销号问题一次交给接任人。"""
    engine = ctx.engine()
    result = handover(engine, name, successor, user_id_of(engine, as_user), reason, password, unit, to_unit)
    emit(result, as_json, lambda r: f"已将{r['from']}的工作移交给{r['to']}：待办 {r['tasks']} 项，"
                                    f"责任人问题 {r['items_as_person']} 个，分管问题 {r['items_as_leader']} 个")


@main.group()
def notifications():
    """站内通知。"""


@notifications.command("list")
@click.option("--user", "user_name", required=True, help="用户姓名或登录名")
@click.option("--unit", help="同名时指定单位")
@click.option("--unread", is_flag=True, help="只列未读")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def notifications_list(ctx, user_name, unit, unread, as_json):
    """列出用户的通知（最新在前）。"""
    engine = ctx.engine()
    result = notifications_of(engine, user_id_of(engine, user_name, unit), unread_only=unread)
    emit(result["notifications"], as_json, lambda rows: "\n".join(
        f"{n['id']:>5}  {'  ' if n['read'] else '● '}[{n['kind']}] {n['text']}" for n in rows) or "（无通知）")


@users.command("set-email")
@click.argument("name")
@click.argument("address")
@click.option("--unit", help="同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def users_set_email(ctx, name, address, unit, as_json):
    """设置人员的电子邮箱（给空字符串清除）。"""
    emit(set_email(ctx.engine(), name, address, "cli", unit), as_json,
         lambda u: f"{u['name']} 的电子邮箱：{u['email'] or '（无）'}")
