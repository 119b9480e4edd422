"""People administration (管理员): disable and enable an account, move a person to another unit, remove a
role — and 移交 (handover, at 换届 or 调岗): every open task a person holds and every open item they
answer for, as 责任人 or 分管领导, to a successor, in one action confirmed with the actor's password.

A disabled person cannot log in or sign, and their sessions end at once; they stay in history and in
every signature they made. Each change is audited; a handover also writes a line in each item's
history saying who handed what to whom and why."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.events import TaskAssigned, record
from engine.people.directory import check_login, check_new_password, check_roles, find_user, user_summary
from engine.people.keys import issue_key
from engine.people.passwords import check_password, hash_password
from engine.people.sessions import end_sessions_of
from engine.process.instances import add_history_entry
from engine.process.paths import latest_path
from engine.store import audit
from engine.store.models import (
    ADMIN,
    HEAD,
    LEADER,
    OFFICER,
    STATUS_OPEN,
    InboxTask,
    Item,
    RoleGrant,
    Unit,
    User,
    person_with_roles,
)

if TYPE_CHECKING:
    from engine.core import Engine


def _person(session, name: str, unit: str | None = None) -> User:
    try:
        return person_with_roles(session, find_user(session, name, unit).id)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, {"name": exc.message}) from None


def set_active(engine: Engine, name: str, active: bool, actor: str | None = None, unit: str | None = None) -> dict:
    """停用 (False) or 启用 (True) an account; disabling ends its sessions."""
    with engine.db.transaction() as session:
        user = _person(session, name, unit)
        user.active = active
        ended = 0 if active else end_sessions_of(session, user.id)
        held = session.execute(select(InboxTask.id).where(InboxTask.assignee_id == user.id)).scalars().all()
        audit.append(session, "user.enable" if active else "user.disable", "user", user.id, actor, name=user.name,
                     sessions_ended=ended)
        return user_summary(user) | {"active": user.active, "open_tasks": len(held)}


def move_user(engine: Engine, name: str, unit_name: str, actor: str | None = None, unit: str | None = None) -> dict:
    """调岗: the person now belongs to another, existing unit (the items they answer for stay theirs
    until a handover or a change of responsibility moves them)."""
    with engine.db.transaction() as session:
        user = _person(session, name, unit)
        target = session.execute(select(Unit).where(Unit.name == (unit_name or "").strip())).scalar_one_or_none()
        if target is None:
            raise InvalidInput(f"找不到单位「{unit_name}」", {"unit": f"找不到单位「{unit_name}」"})
        if target.id == user.unit_id:
            raise InvalidInput(f"{user.name}已在{target.name}", {"unit": "与现在的单位相同"})
        clash = session.execute(select(User.id).where(User.name == user.name, User.unit_id == target.id)).first()
        if clash:
            raise InvalidInput(f"{target.name}已有同名人员{user.name}", {"unit": "该单位已有同名人员"})
        before, user.unit_id = user.unit.name, target.id
        audit.append(session, "user.move", "user", user.id, actor, name=user.name, before=before, after=target.name)
        session.flush()
        session.refresh(user)
        return user_summary(user) | {"active": user.active}


def revoke_role(engine: Engine, name: str, role: str, actor: str | None = None, unit: str | None = None) -> dict:
    [role] = check_roles([role])
    with engine.db.transaction() as session:
        user = _person(session, name, unit)
        grant = next((g for g in user.grants if g.role == role), None)
        if grant is None:
            raise InvalidInput(f"{user.name}没有「{role}」角色", {"role": "该人员没有此角色"})
        user.grants.remove(grant)
        session.flush()
        audit.append(session, "user.revoke", "user", user.id, actor, name=user.name, role=role)
        return user_summary(user) | {"active": user.active}


def handover(engine: Engine, name: str, successor: str, actor_id: int, reason: str, password: str | None,
             unit: str | None = None, successor_unit: str | None = None) -> dict:
    """移交: every open task held by `name` and every open item they answer for go to `successor`."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请写明移交理由", {"reason": "「理由」不能为空"})
    with engine.db.transaction() as session:
        actor = person_with_roles(session, actor_id)
        if actor is None or not actor.active or ADMIN not in actor.roles:
            raise Forbidden("只有管理员可以移交人员的工作")
        if password is not None and not check_password(actor.password_hash, password):
            raise InvalidInput("移交确认失败：密码不正确", {"password": "密码不正确"})
        old, new = _person(session, name, unit), _person(session, successor, successor_unit)
        if old.id == new.id or not new.active:
            raise InvalidInput("接任人应为另一位在职人员", {"to": "接任人应为另一位在职人员"})
        tasks = list(session.execute(select(InboxTask).where(InboxTask.assignee_id == old.id)).scalars())
        as_person = list(session.execute(select(Item).where(Item.person_id == old.id, Item.status == STATUS_OPEN)).scalars())
        as_leader = list(session.execute(select(Item).where(Item.leader_id == old.id, Item.status == STATUS_OPEN)).scalars())
        needed = {t.lane_role for t in tasks if t.lane_role != OFFICER} | ({LEADER} if as_leader else set())
        missing = sorted(r for r in needed if r not in new.roles and not (r == LEADER and HEAD in new.roles))
        if missing:
            raise InvalidInput(f"接任人{new.name}缺少角色：{'、'.join(missing)}", {"to": f"缺少角色：{'、'.join(missing)}"})
        now = engine.clock.now()
        for item in as_person:
            item.person_id = new.id
        for item in as_leader:
            item.leader_id = new.id
        for task in tasks:
            task.assignee_id = new.id
            record(session, TaskAssigned(task.item_id, task.id, task.name, task.lane_role, new.id,
                                         task.due_date.isoformat() if task.due_date else ""))
        for item_id in sorted({t.item_id for t in tasks} | {i.id for i in as_person + as_leader}):
            path = latest_path(session, item_id)
            add_history_entry(session, path.id, item_id, "handover", "工作移交", "handover", "handed_over", actor.id, now,
                              {"from": old.name, "to": new.name, "reason": reason})
        result = {"from": old.name, "to": new.name, "reason": reason, "tasks": len(tasks),
                  "items_as_person": len(as_person), "items_as_leader": len(as_leader)}
        audit.append(session, "user.handover", "user", old.id, actor.name, **result)
        return result


def reset_password(engine: Engine, user_id: int, temporary: str, actor: str | None = None) -> dict:
    """重置密码: a temporary password the person must replace at their next login; their sessions end."""
    check_new_password(temporary)
    with engine.db.transaction() as session:
        user = person_with_roles(session, user_id)
        if user is None:
            raise NotFound("用户不存在")
        user.password_hash, user.must_change_password = hash_password(temporary), True
        # The old key cannot be re-wrapped without the old password: revoked, a new one issued.
        issue_key(engine, session, user, temporary, actor, "管理员重置密码")
        ended = end_sessions_of(session, user.id)
        audit.append(session, "user.reset_password", "user", user.id, actor, name=user.name, sessions_ended=ended)
        return user_summary(user)


def update_user(engine: Engine, user_id: int, *, name: str | None = None, login: str | None = None,
                roles: list[str] | None = None, actor: str | None = None) -> dict:
    """Edit a person: display name, 登录名 (empty: none), and the whole set of roles (granted and
    removed to match)."""
    with engine.db.transaction() as session:
        user = person_with_roles(session, user_id)
        if user is None:
            raise NotFound("用户不存在")
        before = user_summary(user)
        errors = {}
        if name is not None:
            name = name.strip()
            clash = session.execute(select(User.id).where(User.name == name, User.unit_id == user.unit_id,
                                                          User.id != user.id)).first()
            if not name:
                errors["name"] = "「姓名」不能为空"
            elif clash:
                errors["name"] = f"{user.unit.name}已有同名人员{name}"
            else:
                user.name = name
        if login is not None:
            try:
                user.login = check_login(session, login, user) if login.strip() else None
            except InvalidInput as exc:
                errors |= exc.field_errors
        if roles is not None:
            try:
                wanted = set(check_roles(roles))
            except InvalidInput as exc:
                errors["roles"] = exc.message
                wanted = user.roles
            for grant in [g for g in user.grants if g.role not in wanted]:
                user.grants.remove(grant)
            for role in sorted(wanted - user.roles):
                user.grants.append(RoleGrant(role=role))
        if errors:
            raise InvalidInput("人员信息未保存，请按提示修改", errors)
        session.flush()
        after = user_summary(user)
        changed = {k: [before[k], after[k]] for k in ("name", "login", "roles") if before[k] != after[k]}
        if changed:
            audit.append(session, "user.update", "user", user.id, actor, **changed)
        return after | {"active": user.active}
