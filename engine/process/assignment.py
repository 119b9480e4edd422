"""Who a task goes to (docs/domain.md, paths): a lane named after a role. For the item's own people the task
goes to that person; for body-wide roles to anyone holding the role."""
from __future__ import annotations

from sqlalchemy import and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from engine.events import note_active
from engine.store.models import LEADER, OFFICE, OFFICER, UNIT_HEAD, InboxTask, Item, RoleGrant, TaskRecord, User


def _holders_query(in_unit: bool):
    query = select(User.id).join(RoleGrant).where(RoleGrant.role == bindparam("role"), User.active.is_(True))
    return query.where(User.unit_id == bindparam("unit_id")).order_by(User.id) if in_unit else query.order_by(User.id)


# Built once: these run on every step that assigns a task, and building them cost more than running them.
HOLDERS = {True: _holders_query(True), False: _holders_query(False)}


def _holders(session: Session, role: str, unit_id: int | None = None) -> list[int]:
    holders = list(session.execute(HOLDERS[unit_id is not None], {"role": role, "unit_id": unit_id}).scalars())
    note_active(session, holders)
    return holders


def assign(session: Session, item: Item, lane_role: str, excluded: frozenset[int] = frozenset(),
           holders: list[int] | None = None) -> tuple[int | None, int | None]:
    """(assignee user id, unit scope) for a task in lane `lane_role` of `item`. `excluded` are the
    people who did the work the task reviews: they may not sign it (审签与经办分离), so it goes to
    another holder of the role — for the unit head, another head of the unit — and failing that
    to the first 整改办, never to someone who could not complete it. `holders`: the lane's holders (the
    unit's for 责任单位负责人) when already read."""
    if lane_role == OFFICER:
        return item.person_id, None
    if lane_role == LEADER and item.leader_id not in excluded:
        return item.leader_id, None
    if lane_role == UNIT_HEAD:
        heads = _holders(session, UNIT_HEAD, item.unit_id) if holders is None else holders
        if not heads:  # none registered yet: any 责任单位负责人 of that unit added later can take it
            return None, item.unit_id
        allowed = [h for h in heads if h not in excluded]
        if allowed:
            return allowed[0], None
    elif lane_role != LEADER:
        # the role's pool: anyone of it may take it (the excluded are refused)
        if not excluded or any(h not in excluded for h in (
                _holders(session, lane_role) if holders is None else holders)):
            return None, None
    if lane_role == LEADER:  # the item's own leader did the reviewed work: another 分管领导
        others = [h for h in _holders(session, LEADER) if h not in excluded]
        if others:
            return others[0], None
    office = [h for h in _holders(session, OFFICE) if h not in excluded]
    return (office[0], None) if office else (None, None)  # nobody: `rectify doctor` names it


def reviewed_records(session: Session, item_id: int, gate_bpmn_id: str, reviewed: list[str]) -> list[TaskRecord]:
    """The work a gate reviews: the reviewed steps done since this gate last decided (so a
    resubmission after 退回 is reviewed afresh); without `reviewed`, every user step."""
    query = _reviewed_query([TaskRecord], bool(reviewed)).options(selectinload(TaskRecord.user)).order_by(TaskRecord.id)
    return list(session.execute(query, {"item_id": item_id, "gate": gate_bpmn_id, "reviewed": reviewed or []})
                .unique().scalars())


def _reviewed_query(columns, named: bool):
    """Completed work on item :item_id since the gate :gate last decided, of the steps :reviewed (or, not
    `named`, every user step)."""
    last_decision = select(func.coalesce(func.max(TaskRecord.id), 0)).where(
        TaskRecord.item_id == bindparam("item_id"), TaskRecord.bpmn_id == bindparam("gate")).scalar_subquery()
    query = select(*columns).where(
        TaskRecord.item_id == bindparam("item_id"), TaskRecord.id > last_decision, TaskRecord.outcome == "completed",
        TaskRecord.completed_by.is_not(None),
    )
    return (query.where(TaskRecord.bpmn_id.in_(bindparam("reviewed", expanding=True))) if named
            else query.where(TaskRecord.kind == "user"))


REVIEWERS = {True: _reviewed_query([TaskRecord.completed_by], True), False: _reviewed_query([TaskRecord.completed_by], False)}


def excluded_by_review(session: Session, item_id: int, gate_bpmn_id: str, reviewed: list[str]) -> frozenset[int]:
    """The people who did the work a gate reviews (since it last decided): they may not sign it."""
    return frozenset(session.execute(REVIEWERS[bool(reviewed)],
                                     {"item_id": item_id, "gate": gate_bpmn_id, "reviewed": reviewed or []}).scalars())


def _gate_query(named: bool, in_unit: bool):
    """Who did the reviewed work (marked 1) and who holds the gate's role (marked 0), in one statement."""
    done = _reviewed_query([literal(1).label("reviewed"), TaskRecord.completed_by.label("user_id")], named)
    holders = select(literal(0).label("reviewed"), User.id.label("user_id")).join(RoleGrant).where(
        RoleGrant.role == bindparam("role"), User.active.is_(True))
    return union_all(done, holders.where(User.unit_id == bindparam("unit_id")) if in_unit else holders)


GATES = {(named, in_unit): _gate_query(named, in_unit) for named in (True, False) for in_unit in (True, False)}


def assign_gate(session: Session, item: Item, lane_role: str, gate_bpmn_id: str, reviewed: list[str]
                ) -> tuple[int | None, int | None]:
    """`assign` for a sign-off gate: the people it must not go to (`excluded_by_review`) and, for a lane
    whose holders are read, those holders come from one statement (a gate opens on most steps)."""
    if lane_role in (OFFICER, LEADER):
        return assign(session, item, lane_role, excluded_by_review(session, item.id, gate_bpmn_id, reviewed))
    unit_id = item.unit_id if lane_role == UNIT_HEAD else None
    rows = session.execute(GATES[bool(reviewed), unit_id is not None], {
        "item_id": item.id, "gate": gate_bpmn_id, "reviewed": reviewed or [], "role": lane_role, "unit_id": unit_id})
    excluded, holders = set(), []
    for is_reviewed, user_id in rows:
        (excluded.add if is_reviewed else holders.append)(user_id)
    holders.sort()
    note_active(session, holders)
    return assign(session, item, lane_role, frozenset(excluded), holders)


def may_complete(session: Session, task: InboxTask, excluded: frozenset[int] = frozenset()) -> bool:
    """Whether anybody at all may complete the open task (an active holder who is not excluded)."""
    if task.assignee_id is not None:
        user = session.get(User, task.assignee_id)
        return user is not None and user.active and user.id not in excluded
    holders = _holders(session, task.lane_role, task.scope_unit_id)
    return any(h not in excluded for h in holders)


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



