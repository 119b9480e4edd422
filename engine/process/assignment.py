"""Who a task goes to (docs/domain.md, paths): a lane named after a role. For the item's own people the task
goes to that person; for body-wide roles to anyone holding the role."""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.store.models import LEADER, OFFICER, UNIT_HEAD, InboxTask, Item, RoleGrant, User


def assign(session: Session, item: Item, lane_role: str) -> tuple[int | None, int | None]:
    """(assignee user id, unit scope) for a task in lane `lane_role` of `item`."""
    if lane_role == OFFICER:
        return item.person_id, None
    if lane_role == LEADER:
        return item.leader_id, None
    if lane_role == UNIT_HEAD:
        head = session.execute(
            select(User.id).join(RoleGrant).where(
                User.unit_id == item.unit_id, RoleGrant.role == UNIT_HEAD, User.active,
            ).order_by(User.id)
        ).scalars().first()
        # No head registered yet: any 责任单位负责人 of that unit who is added later can take it.
        return (head, None) if head is not None else (None, item.unit_id)
    return None, None


def visible_to(user: User):
    """SQL condition: inbox rows this user may work on."""
    return or_(
        InboxTask.assignee_id == user.id,
        and_(
            InboxTask.assignee_id.is_(None),
            InboxTask.lane_role.in_(sorted(user.roles)),
            or_(InboxTask.scope_unit_id.is_(None), InboxTask.scope_unit_id == user.unit_id),
        ),
    )


def refusal(user: User, task: InboxTask) -> str | None:
    """Why `user` may not complete `task`, or None when they may."""
    if not user.active:
        return "该账号已停用"
    if task.assignee_id is not None:
        if task.assignee_id == user.id:
            return None
        return f"该任务由「{task.assignee.name}」办理，您无权处理"
    if task.lane_role not in user.roles:
        return f"该任务需由「{task.lane_role}」办理，您没有该角色"
    if task.scope_unit_id is not None and task.scope_unit_id != user.unit_id:
        return "该任务属于其他单位，您无权处理"
    return None


def holder_label(task: InboxTask) -> str:
    return task.assignee.name if task.assignee is not None else f"（{task.lane_role}）"



