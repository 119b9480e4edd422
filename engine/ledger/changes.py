"""变更申请: changes to an open item that its steps cannot make — 延期 (a new deadline), 调整责任 (a new
responsible person, unit or 分管领导), 调整类别 (another category: the running path ends, its history and
signatures kept, and the new category's path starts), 撤销 (withdrawn) and 合并 (withdrawn into another
item). 谁签字谁负责: the person, the unit head or 整改办 asks, with a reason (the 变更申请 step of
workflows/change.bpmn, done as they ask); the item's 分管领导 (延期, 调整责任) or 主要领导 (调整类别, 撤销,
合并) approves on a sign-off gate, with the password and separation of duties; the approval applies the
change in its own transaction (engine/process/paths.py moves the deadline and the 问责 moment, hands
open tasks on, ends a path). A rejection changes nothing. 退回环节 (整改办 sends the item back to an
earlier step, approved by the 主要领导) is a kind of its own, carried out by engine/ledger/rewind.py."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.events import ChangeDecided, DeadlineChanged, record
from engine.ledger.lights import WITHDRAWN
from engine.people.directory import find_user
from engine.process.instances import CHANGE_PROCESS, ON_COMPLETED, honours_third_party, refresh_light, start_instance
from engine.process.paths import end_path, move_deadline, reassign_open_tasks
from engine.store import audit
from engine.store.models import (
    CATEGORIES,
    HEAD,
    LEADER,
    OFFICE,
    STATUS_OPEN,
    STATUS_WITHDRAWN,
    UNIT_HEAD,
    Base,
    InboxTask,
    Item,
    TaskRecord,
    Unit,
    User,
    person_with_roles,
)

if TYPE_CHECKING:
    from engine.core import Engine

EXTEND, RESPONSIBILITY, CATEGORY, WITHDRAW, MERGE = "延期", "调整责任", "调整类别", "撤销", "合并"
REWIND = "退回环节"  # 整改办 sends the item back to an earlier step: engine/ledger/rewind.py
APPROVER = {EXTEND: LEADER, RESPONSIBILITY: LEADER, CATEGORY: HEAD, WITHDRAW: HEAD, MERGE: HEAD, REWIND: HEAD}
# kind → apply(engine, session, request, item): kinds whose approval another module carries out.
APPLIERS: dict = {}
PENDING, APPROVED, REJECTED = "待审批", "已批准", "已退回"
APPROVAL_DAYS = timedelta(days=7)  # the approver's sign-off is due a week after the request


class ChangeRequest(Base):
    """One change asked for on an item, and what became of it."""

    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict]  # the item's values it changes, as they were
    after: Mapped[dict]  # the new values (names, dates as text)
    approver_role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_at: Mapped[Optional[datetime]]
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    opinion: Mapped[str] = mapped_column(Text, default="")


def _kind(wanted: dict) -> str:
    kinds = [k for k, on in ((MERGE, wanted.get("merge_into")), (WITHDRAW, wanted.get("withdraw")),
                             (CATEGORY, wanted.get("category")), (EXTEND, wanted.get("deadline")),
                             (RESPONSIBILITY, wanted.get("person") or wanted.get("unit") or wanted.get("leader"))) if on]
    if len(kinds) != 1 and set(kinds) != {EXTEND, RESPONSIBILITY}:
        raise InvalidInput("一次申请只能是一种变更：延期和调整责任可以同时申请；调整类别、撤销、合并须单独申请",
                           {"kind": "请只选择一种变更"} if kinds else {"kind": "请选择要变更的内容"})
    return RESPONSIBILITY if set(kinds) == {EXTEND, RESPONSIBILITY} else kinds[0]


def _after(engine: Engine, session: Session, item: Item, kind: str, wanted: dict) -> tuple[dict, dict, dict]:
    """(before, after, field errors): the new values checked, each bad one named."""
    errors, before, after = {}, {}, {}
    if wanted.get("deadline"):
        try:
            new = date.fromisoformat(str(wanted["deadline"]).strip())
        except ValueError:
            new = None
            errors["deadline"] = f"「新整改时限」应为 YYYY-MM-DD 格式的日期：{wanted['deadline']}"
        today = engine.lights.local_date(engine.clock.now())
        if new is not None and new < today:
            errors["deadline"] = f"「新整改时限」不能早于今天（{today.isoformat()}）"
        elif new is not None and new <= item.deadline:
            errors["deadline"] = f"「新整改时限」应晚于现在的整改时限 {item.deadline.isoformat()}"
        elif new is not None:
            before["deadline"], after["deadline"] = item.deadline.isoformat(), new.isoformat()
    unit = item.unit
    if wanted.get("unit"):
        unit = session.execute(select(Unit).where(Unit.name == str(wanted["unit"]).strip())).scalar_one_or_none()
        if unit is None:
            errors["unit"] = f"找不到责任单位「{wanted['unit']}」"
        elif unit.id == item.unit_id:
            errors["unit"] = "与现在的责任单位相同"
        else:
            before["unit"], after["unit"] = item.unit.name, unit.name
    if wanted.get("person") or (wanted.get("unit") and unit is not None and "unit" not in errors):
        name = str(wanted.get("person") or item.person.name).strip()
        try:
            person = find_user(session, name, unit.name if unit is not None else None)
            if not person.active:
                errors["person"] = f"{person.name}的账号已停用"
            elif person.id == item.person_id and not wanted.get("unit"):
                errors["person"] = "与现在的责任人相同"
            else:
                before["person"], after["person"] = item.person.name, person.name
        except (InvalidInput, NotFound):
            errors["person"] = f"在{unit.name if unit else '该单位'}找不到人员「{name}」" + ("（调整单位须同时指定该单位的责任人）" if not wanted.get("person") else "")
    if wanted.get("leader"):
        try:
            leader = person_with_roles(session, find_user(session, str(wanted["leader"]).strip()).id)
            if not leader.roles & {LEADER, HEAD} or not leader.active:
                errors["leader"] = f"{leader.name}不是在职的分管领导"
            elif leader.id == item.leader_id:
                errors["leader"] = "与现在的分管领导相同"
            else:
                before["leader"], after["leader"] = item.leader.name, leader.name
        except (InvalidInput, NotFound) as exc:
            errors["leader"] = getattr(exc, "message", str(exc))
    if kind == CATEGORY:
        category = str(wanted["category"]).strip()
        if category not in CATEGORIES:
            errors["category"] = f"「新整改类别」应为 {'、'.join(CATEGORIES)} 之一"
        elif category == item.category:
            errors["category"] = "与现在的整改类别相同"
        elif item.needs_third_party and not honours_third_party(session, category):
            errors["category"] = f"该问题需第三方评估，{category}的流程没有评估环节"
        else:
            before["category"], after["category"] = item.category, category
    if kind == MERGE:
        number = str(wanted["merge_into"]).strip()
        target = session.execute(select(Item).where(Item.round_id == item.round_id, Item.number == number)).scalar_one_or_none()
        if target is None:
            errors["merge_into"] = f"本轮次没有第 {number} 号问题"
        elif target.id == item.id or target.status == STATUS_WITHDRAWN:
            errors["merge_into"] = "不能并入本问题或已撤销的问题"
        else:
            after["merge_into"] = {"id": target.id, "number": target.number, "title": target.title}
    if kind == WITHDRAW:
        before["status"], after["status"] = item.status, STATUS_WITHDRAWN
    return before, after, errors


def rewind_summary(before: dict, after: dict) -> str:
    now = "、".join(before.get("steps") or [])
    return f"退回到「{after['step']['name']}」重新办理" + (f"（现在：{now}）" if now else "")


def _summary(kind: str, before: dict, after: dict, extension: int) -> str:
    if kind == REWIND:
        return rewind_summary(before, after)
    labels = {"deadline": "整改时限", "unit": "责任单位", "person": "责任人", "leader": "分管领导", "category": "整改类别"}
    parts = [f"{labels[k]}由{before[k]}改为{after[k]}" for k in labels if k in after]
    if kind == EXTEND and extension > 1:
        parts.append(f"本问题第 {extension} 次申请延期")
    if kind == WITHDRAW:
        parts.append("撤销该问题（不计入销号）")
    if kind == MERGE:
        parts.append(f"并入第 {after['merge_into']['number']} 号问题「{after['merge_into']['title']}」并撤销本问题")
    return "；".join(parts)


def request_change(engine: Engine, item_id: int, requester_id: int, reason: str, **wanted) -> dict:
    """Ask for a change; `wanted` holds deadline, person, unit, leader, category, withdraw, merge_into.
    Starts the approval (a sign-off in the approver's inbox) and returns the request."""
    reason = (reason or "").strip()
    with engine.db.transaction() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"找不到问题 {item_id}")
        requester = person_with_roles(session, requester_id)
        if requester is None or not requester.active:
            raise Forbidden("请先登录")
        if not (requester.id == item.person_id or OFFICE in requester.roles
                or (UNIT_HEAD in requester.roles and requester.unit_id == item.unit_id)):
            raise Forbidden("只有该问题的责任人、责任单位负责人和整改办可以申请变更")
        if item.status != STATUS_OPEN:
            raise InvalidInput(f"该问题{item.status}，不能再申请变更", {"item": f"问题{item.status}"})
        pending = session.execute(select(ChangeRequest.id).where(ChangeRequest.item_id == item.id,
                                                                 ChangeRequest.status == PENDING)).scalar()
        if pending:
            raise Conflict(f"该问题已有待审批的变更申请（编号 {pending}），请等审批后再申请")
        kind = _kind(wanted)
        before, after, errors = _after(engine, session, item, kind, wanted)
        if not reason:
            errors["reason"] = "「理由」不能为空"
        if errors:
            raise InvalidInput("变更申请未提交，请按提示修改", errors)
        extension = 1 + (session.execute(select(func.count(ChangeRequest.id)).where(
            ChangeRequest.item_id == item.id, ChangeRequest.status == APPROVED, ChangeRequest.after["deadline"].as_string().is_not(None))).scalar() or 0)
        approver = APPROVER[kind]
        if approver == LEADER and requester.id == item.leader_id:
            approver = HEAD  # the leader asking: the 主要领导 decides
        form = {"kind": kind, "summary": _summary(kind, before, after, extension), "reason": reason}
        form |= {k: v for k, v in after.items() if k in ("deadline", "person", "unit", "leader", "category")}
        if "merge_into" in after:
            form["merge_into"] = f"第 {after['merge_into']['number']} 号问题"
        if "deadline" in after:
            form["extension"] = extension
        request = open_request(engine, session, item, requester, kind, reason, before, after, approver, form)
        audit.append(session, "item.change.request", "item", item.id, requester.name, request=request.id, kind=kind,
                     after=after)
        return change_view(session, request)


def open_request(engine: Engine, session: Session, item: Item, requester: User, kind: str, reason: str, before: dict,
                 after: dict, approver: str, form: dict) -> ChangeRequest:
    """Start the change process for a checked request: its first step, the request form, is the
    requester's own and done at once (`form`); the approval then waits for `approver`."""
    from engine.work.completion import complete_task  # imported here: completing a step needs the ledger

    today = engine.lights.local_date(engine.clock.now())
    instance = start_instance(engine, session, item, CHANGE_PROCESS,
                              {"approver": approver, "request_due": (today + APPROVAL_DAYS).isoformat()})
    request = ChangeRequest(item_id=item.id, instance_id=instance.id, kind=kind, reason=reason, before=before,
                            after=after, approver_role=approver, requested_by=requester.id,
                            requested_at=engine.clock.now())
    session.add(request)
    session.flush()
    task = session.execute(select(InboxTask).where(InboxTask.instance_id == instance.id)).scalar_one()
    task.assignee_id, task.scope_unit_id = requester.id, None  # the request is the requester's own step
    complete_task(engine, task.id, form, requester.id)
    return request


def _decided(engine: Engine, session: Session, instance, item: Item) -> None:
    """The approval's sign-off finished the change instance: apply the change, or note the rejection."""
    request = session.execute(select(ChangeRequest).where(ChangeRequest.instance_id == instance.id)).scalar_one()
    gate = session.execute(select(TaskRecord).where(TaskRecord.instance_id == instance.id, TaskRecord.kind == "signoff")
                           .order_by(TaskRecord.id.desc()).limit(1)).scalars().first()
    decision = (gate.data or {}).get("decision") if gate else None
    request.decided_at, request.decided_by = engine.clock.now(), gate.completed_by if gate else None
    request.opinion = (gate.data or {}).get("opinion", "") if gate else ""
    request.status = APPROVED if decision == "approve" else REJECTED
    record(session, ChangeDecided(item.id, request.id, request.kind, request.status, request.requested_by, request.opinion))
    if request.status == REJECTED:
        return
    if request.kind in APPLIERS:
        APPLIERS[request.kind](engine, session, request, item)
        return
    after = request.after
    if request.kind in (WITHDRAW, MERGE):
        end_path(session, item)
        item.status, item.light = STATUS_WITHDRAWN, WITHDRAWN
    if "unit" in after:
        item.unit_id = session.execute(select(Unit.id).where(Unit.name == after["unit"])).scalar_one()
    if "person" in after:
        item.person_id = find_user(session, after["person"], after.get("unit") or item.unit.name).id
    if "leader" in after:
        item.leader_id = find_user(session, after["leader"]).id
    session.flush()
    if "deadline" in after:
        old, item.deadline = item.deadline, date.fromisoformat(after["deadline"])
        record(session, DeadlineChanged(item.id, old.isoformat(), item.deadline.isoformat()))
        move_deadline(engine, session, item)
        session.flush()
        refresh_light(engine, session, item, engine.clock.now())
    if "category" in after:
        end_path(session, item)
        item.category = after["category"]
        session.flush()
        start_instance(engine, session, item)
    if after.keys() & {"unit", "person", "leader"}:
        session.expire(item, ["unit", "person", "leader"])
        reassign_open_tasks(engine, session, item)
    audit.append(session, "item.change.apply", "item", item.id, None, request=request.id, kind=request.kind, after=after)


ON_COMPLETED[CHANGE_PROCESS] = _decided


def change_view(session: Session, r: ChangeRequest) -> dict:
    names = dict(session.execute(select(Item.id, Item.number).where(Item.id == r.item_id)).all())
    people = dict(session.execute(select(User.id, User.name).where(User.id.in_({r.requested_by, r.decided_by} - {None})))
                  .all())
    open_task = session.execute(select(InboxTask.id).where(InboxTask.instance_id == r.instance_id)).scalar()
    return {"id": r.id, "item_id": r.item_id, "item_number": names.get(r.item_id), "kind": r.kind, "reason": r.reason,
            "before": r.before, "after": r.after, "approver_role": r.approver_role, "status": r.status,
            "requested_by": people.get(r.requested_by), "requested_at": r.requested_at.isoformat(),
            "decided_by": people.get(r.decided_by), "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "opinion": r.opinion or "", "task_id": open_task,
            "summary": _summary(r.kind, r.before, r.after, 1)}


def item_changes(session: Session, item_id: int) -> list[dict]:
    rows = session.execute(select(ChangeRequest).where(ChangeRequest.item_id == item_id)
                           .order_by(ChangeRequest.id)).scalars()
    return [change_view(session, r) for r in rows]


def list_changes(engine: Engine, item_id: int) -> list[dict]:
    with engine.db.reading() as session:
        if session.get(Item, item_id) is None:
            raise NotFound(f"找不到问题 {item_id}")
        return item_changes(session, item_id)
