"""转办: an open task handed to another person — by the head of the item's unit, to another officer of
that unit, or by 整改办, to anyone who could do it. The new holder sees it at once; the item's history
records who moved it, from whom, to whom and why (a task record of kind `reassign`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import Forbidden, InvalidInput
from engine.events import TaskAssigned, record
from engine.people.directory import find_user
from engine.process.assignment import excluded_by_review, holder_label
from engine.process.instances import add_history_entry
from engine.process.paths import reviewed_steps
from engine.store import audit
from engine.store.models import OFFICE, OFFICER, UNIT_HEAD, Item, person_with_roles
from engine.work.inbox import open_task

if TYPE_CHECKING:
    from engine.core import Engine

REASSIGNMENT_TITLES = {"from": "原办理人", "to": "新办理人", "reason": "转办理由"}


def _check_holder(new, row, item: Item, actor) -> None:
    if not new.active:
        raise InvalidInput(f"{new.name}的账号已停用，不能接收任务", {"to": "该人员已停用"})
    if row.lane_role == OFFICER:
        if new.unit_id != item.unit_id:
            raise InvalidInput(f"{new.name}不在责任单位{item.unit.name}，不能办理该任务",
                               {"to": f"应为{item.unit.name}的人员"})
    elif row.lane_role not in new.roles:
        raise InvalidInput(f"{new.name}没有「{row.lane_role}」角色，不能办理该任务", {"to": f"需要「{row.lane_role}」角色"})
    if OFFICE not in actor.roles and new.unit_id != actor.unit_id:
        raise InvalidInput("责任单位负责人只能转办给本单位人员", {"to": "应为本单位人员"})


def reassign_task(engine: Engine, task_id: str, to_name: str, actor_id: int, reason: str,
                  to_unit: str | None = None) -> dict:
    """Hand the open task to `to_name`; `reason` is required."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请写明转办理由", {"reason": "「转办理由」不能为空"})
    with engine.db.transaction() as session:
        actor = person_with_roles(session, actor_id)
        row = open_task(session, task_id)
        item = session.get(Item, row.item_id)
        if actor is None or not actor.active:
            raise Forbidden("请先登录")
        if OFFICE not in actor.roles and not (UNIT_HEAD in actor.roles and actor.unit_id == item.unit_id):
            raise Forbidden("只有责任单位负责人（本单位的任务）和整改办可以转办任务")
        try:
            new = find_user(session, to_name, to_unit)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {"to": exc.message}) from None
        new = person_with_roles(session, new.id)
        _check_holder(new, row, item, actor)
        if row.assignee_id == new.id:
            raise InvalidInput(f"该任务已由{new.name}办理", {"to": "与现办理人相同"})
        if row.signoff:
            if new.id in excluded_by_review(session, item.id, row.bpmn_id, reviewed_steps(engine, session, row)):
                raise InvalidInput(f"{new.name}办理了该签字环节所审核的工作，不能签字（审签与经办分离）",
                                   {"to": "不能审核本人办理的工作"})
        before = holder_label(row)
        row.assignee_id, row.scope_unit_id = new.id, None
        now = engine.clock.now()
        data = {"from": before, "to": new.name, "reason": reason}
        add_history_entry(session, row.instance_id, item.id, row.bpmn_id, f"转办：{row.name}", "reassign", "reassigned",
                          actor.id, now, data)
        record(session, TaskAssigned(item.id, row.id, row.name, row.lane_role, new.id,
                                     row.due_date.isoformat() if row.due_date else ""))
        audit.append(session, "task.reassign", "task", task_id, actor.name, item=item.number, **data)
        return {"id": task_id, "item_id": item.id, "step": row.name, "from": before, "to": new.name, "reason": reason}
