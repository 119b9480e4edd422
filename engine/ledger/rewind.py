"""退回到任意环节: 整改办 sends an open item back to an earlier step of its path, with a reason. It is a
change request of its own kind (engine/ledger/changes.py, workflows/change.bpmn): the 主要领导
approves it at a sign-off gate (谁签字谁负责), and the approval sends the path back with
SpiffWorkflow's `reset_from_task_id` (engine/process/rewinding.py) in the same transaction. The open
steps below the point are recorded as cancelled; the signatures given from that step on stay on the
chain, marked as superseded (engine/work/superseded.py), never deleted."""
from __future__ import annotations

from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.ledger.changes import (
    APPLIERS,
    PENDING,
    REWIND,
    ChangeRequest,
    change_view,
    open_request,
    rewind_summary,
)
from engine.ledger.relight import refresh_light
from engine.process.bpmn import step_id
from engine.process.instances import (
    RunContext,
    add_history_entry,
    advance,
    deadline_data,
    load_workflow,
)
from engine.process.paths import running_paths
from engine.process.rewinding import ancestors, current_data, describe, points, rewind
from engine.store import audit
from engine.store.models import (
    HEAD,
    OFFICE,
    STATUS_OPEN,
    InboxTask,
    Item,
    Signature,
    TaskRecord,
    person_with_roles,
)
from engine.work.superseded import SupersededSignature, seal_superseded

if TYPE_CHECKING:
    from engine.core import Engine


def _listing(found: dict) -> str:
    return "、".join(f"{t['step_id']}（{t['name']}）" for t in found) or "无"


def _path_points(engine: Engine, session: Session, item: Item):
    """[(instance, workflow, {step id: task})] for the item's running paths."""
    return [(instance, workflow, points(workflow))
            for instance in running_paths(session, item.id) for workflow in [load_workflow(engine, instance)[0]]]


def _targets(paths) -> list[dict]:
    seen, found = set(), []
    for _instance, _workflow, pts in paths:
        for step, task in reversed(list(pts.items())):  # earliest first
            if step not in seen:
                seen.add(step)
                found.append(describe(task))
    return found


def rewind_targets(engine: Engine, item_id: int) -> list[dict]:
    """The steps the item can be sent back to now: [{step_id, name, kind}], earliest first
    (kind: user, signoff, multiinstance, subprocess)."""
    with engine.db.reading() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"找不到问题 {item_id}")
        return _targets(_path_points(engine, session, item)) if item.status == STATUS_OPEN else []


def request_rewind(engine: Engine, item_id: int, step_id: str, actor_id: int, reason: str) -> dict:
    """整改办 asks to send the item back to `step_id` (a BPMN id from rewind_targets): starts the
    approval — a sign-off for the 主要领导 — and returns the change request (change_view, with the
    approval's task_id)."""
    reason, step_id = (reason or "").strip(), (step_id or "").strip()
    with engine.db.transaction() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"找不到问题 {item_id}")
        requester = person_with_roles(session, actor_id)
        if requester is None or not requester.active:
            raise Forbidden("请先登录")
        if OFFICE not in requester.roles:
            raise Forbidden("只有整改办可以把问题退回到之前的环节")
        if item.status != STATUS_OPEN:
            raise InvalidInput(f"该问题{item.status}，不能退回", {"item": f"问题{item.status}"})
        pending = session.execute(select(ChangeRequest.id).where(ChangeRequest.item_id == item.id,
                                                                 ChangeRequest.status == PENDING)).scalar()
        if pending:
            raise Conflict(f"该问题已有待审批的变更申请（编号 {pending}），请等审批后再申请")
        paths = _path_points(engine, session, item)
        found = _targets(paths)
        target = next((t for t in found if t["step_id"] == step_id), None)
        errors = {} if reason else {"reason": "「理由」不能为空"}
        if target is None:
            errors["to"] = (f"不能退回到「{step_id}」：只能退回到当前环节之前、流程仍保留的环节，现在可退回：{_listing(found)}"
                            if found else "该问题现在没有可退回的环节（流程尚未办过任何环节，或已结束）")
        if errors:
            raise InvalidInput("退回申请未提交，请按提示修改", errors)
        open_steps = session.execute(select(InboxTask.name).where(InboxTask.instance_id.in_([p[0].id for p in paths]))
                                     .order_by(InboxTask.created_at, InboxTask.id)).scalars().all()
        before, after = {"steps": list(open_steps)}, {"step": target}
        request = open_request(engine, session, item, requester, REWIND, reason, before, after, HEAD, {
            "kind": REWIND, "summary": rewind_summary(before, after), "reason": reason,
            "step": f"{target['name']}（{target['step_id']}）"})
        audit.append(session, "item.rewind.request", "item", item.id, requester.name, request=request.id,
                     step=step_id, reason=reason)
        return change_view(session, request)


def _apply(engine: Engine, session: Session, request: ChangeRequest, item: Item) -> None:
    """The 主要领导 approved: send the path back now (in the approving transaction)."""
    step = request.after["step"]
    refuse = "；请以「退回」签批此申请"
    if item.status != STATUS_OPEN:
        raise Conflict(f"该问题已{item.status}，不能再退回{refuse}")
    paths = _path_points(engine, session, item)
    chosen = next(((i, w, pts[step["step_id"]]) for i, w, pts in paths if step["step_id"] in pts), None)
    if chosen is None:
        raise Conflict(f"该问题已不能退回到「{step['name']}」（现在可退回：{_listing(_targets(paths))}）{refuse}")
    instance, workflow, target = chosen
    gate = session.execute(select(TaskRecord).where(TaskRecord.instance_id == request.instance_id,
                                                    TaskRecord.kind == "signoff")
                           .order_by(TaskRecord.id.desc()).limit(1)).scalars().first()
    approver_id = gate.completed_by if gate else None
    point = _point(session, instance, workflow, target)
    data = current_data(workflow, target) | deadline_data(engine, item)
    rewind(workflow, target, data)
    advance(engine, session, instance, workflow, item, RunContext(approver_id))
    now = engine.clock.now()
    refresh_light(engine, session, item, now)
    superseded = _supersede(session, item, instance.id, point, request, step["name"], now)
    data = {"reason": request.reason, "change": request.id, "superseded": superseded}
    add_history_entry(session, instance.id, item.id, step["step_id"], f"退回到「{step['name']}」", "rewind", "completed",
                      approver_id, now, data)
    audit.append(session, "item.rewind", "item", item.id, gate.user.name if gate and gate.user else None,
                 change=request.id, step=step["step_id"], reason=request.reason, superseded=superseded)


def _point(session: Session, instance, workflow, target) -> int:
    """The history record from which the work is done again: the target step's own record, else (a
    multi-instance or sub-process) the first record of a step inside it after the steps above it."""
    own = session.execute(select(TaskRecord.id).where(TaskRecord.task_id == str(target.id))).scalar()
    if own is not None:
        return own
    above = [str(t.id) for t in ancestors(workflow, target)]
    floor = session.execute(select(func.max(TaskRecord.id)).where(TaskRecord.instance_id == instance.id,
                                                                  TaskRecord.task_id.in_(above))).scalar() or 0
    spec = target.task_spec
    if isinstance(spec, LoopTask):
        inner = {step_id(target.workflow.spec.task_specs[spec.task_spec])}
    else:
        sub = workflow.subprocess_specs.get(getattr(spec, "spec", None))
        inner = {step_id(t) for t in sub.task_specs.values()} if sub is not None else set()
    first = session.execute(select(func.min(TaskRecord.id)).where(
        TaskRecord.instance_id == instance.id, TaskRecord.id > floor, TaskRecord.bpmn_id.in_(inner))).scalar()
    return first if first is not None else floor + 1


def _supersede(session: Session, item: Item, instance_id: int, point: int, request: ChangeRequest, step: str,
               now) -> list[int]:
    """Mark the path's signatures from `point` on as superseded; returns their sequence numbers."""
    rows = session.execute(
        select(Signature.id, Signature.seq).where(
            Signature.item_id == item.id,
            Signature.task_id.in_(select(TaskRecord.task_id).where(TaskRecord.instance_id == instance_id,
                                                                   TaskRecord.id >= point)),
            Signature.id.not_in(select(SupersededSignature.signature_id)))
        .order_by(Signature.seq)).all()
    if rows:
        values = [{"signature_id": sid, "change_id": request.id, "step": step, "reason": request.reason,
                   "superseded_at": now} for sid, _ in rows]
        session.execute(insert(SupersededSignature), values)
        seal_superseded(session, values)
    return [seq for _, seq in rows]


APPLIERS[REWIND] = _apply
