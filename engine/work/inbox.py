"""我的待办 (the inbox): a person's open tasks, most urgent first, and one task with its form,
instructions and the data it works on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.clock import CLOCK
from engine.errors import Conflict, Forbidden, NotFound
from engine.ledger.items import item_summary
from engine.process.assignment import holder_label, refusal, visible_to
from engine.process.bpmn import reviewed_ids
from engine.process.instances import find_task, load_workflow, version_spec
from engine.store.models import InboxTask, Item, ProcessInstance, TaskRecord, User, person_with_roles

if TYPE_CHECKING:
    from engine.core import Engine

ALREADY_DONE = "该任务已由他人处理"


@dataclass
class InboxFilter:
    round_id: int | None = None
    category: str | None = None
    light: str | None = None
    page: int = 1
    per_page: int = 20


def person(session: Session, user_id: int) -> User:
    user = person_with_roles(session, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def task_row_view(row: InboxTask, lights=None, now=None) -> dict:
    """A task as lists show it; with the light rules, its light is its own (from its due date) but never
    better than its item's deadline's, otherwise its item's."""
    item = row.item
    light = lights.for_round(item.round).item_light(item.deadline, item.status, now, row.due_date) if lights is not None else item.light
    return {
        "id": row.id, "item_id": item.id, "item_number": item.number, "item_title": item.title,
        "round": item.round.name, "category": item.category, "step": row.name, "bpmn_id": row.bpmn_id,
        "role": row.lane_role, "assignee": holder_label(row), "form_key": row.form_key, "signoff": row.signoff,
        "due_date": row.due_date.isoformat() if row.due_date else None, "light": light,
        "created_at": row.created_at.isoformat(),
    }


def inbox(engine: Engine, user_id: int, filters: InboxFilter | None = None) -> dict:
    """The user's open tasks, most urgent first (earliest due; among equals, the item most overdue), then newest."""
    filters = filters or InboxFilter()
    with engine.db.reading() as session:
        user = person(session, user_id)
        query = select(InboxTask).join(Item, Item.id == InboxTask.item_id).where(visible_to(user))
        if filters.round_id or filters.category or filters.light:
            if filters.round_id:
                query = query.where(Item.round_id == filters.round_id)
            if filters.category:
                query = query.where(Item.category == filters.category)
            if filters.light:
                query = query.where(Item.light == filters.light)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = session.execute(
            query.options(selectinload(InboxTask.assignee), selectinload(InboxTask.item).selectinload(Item.round))
            .order_by(InboxTask.due_date.asc(), Item.deadline.asc(), InboxTask.created_at.desc(), InboxTask.id)
            .limit(filters.per_page).offset((max(filters.page, 1) - 1) * filters.per_page)
        ).unique().scalars().all()
        return {"total": total, "page": filters.page, "per_page": filters.per_page,
                "tasks": [task_row_view(row, engine.lights, CLOCK.now()) for row in rows]}


def open_task(session: Session, task_id: str) -> InboxTask:
    """The open task, or Conflict if it was already done (by someone else), or NotFound."""
    row = session.get(InboxTask, task_id)
    if row is not None:
        return row
    if session.execute(select(TaskRecord.id).where(TaskRecord.task_id == task_id)).first():
        raise Conflict(ALREADY_DONE)
    raise NotFound("任务不存在")


def task_for(session: Session, task_id: str, user_id: int) -> tuple[User, InboxTask]:
    """The user and an open task they may act on: Conflict if it was done meanwhile, NotFound,
    Forbidden (naming who holds it) if it is not theirs."""
    user, row = person(session, user_id), open_task(session, task_id)
    if not user.active:
        raise Forbidden("账号已停用")
    reason = refusal(user, row)
    if reason:
        raise Forbidden(reason)
    return user, row


def task_form(engine: Engine, task_id: str, user_id: int) -> dict:
    """The JSON Schema of a task's form ({} for a step without one), for reading what was submitted:
    the task and the user's right to it are checked, but the workflow is not loaded (completing it
    checks everything again under the instance lock)."""
    with engine.db.reading() as session:
        _, row = task_for(session, task_id, user_id)
        if not row.form_key:
            return {}
        version_id = session.execute(select(ProcessInstance.version_id)
                                     .where(ProcessInstance.id == row.instance_id)).scalar_one()
        return version_spec(engine, session, version_id).forms.get(row.form_key) or {}


def task_detail(engine: Engine, task_id: str, user_id: int | None = None) -> dict:
    """A task with its form schema, instructions and the data it works on. With `user_id`, only for
    someone who may see it."""
    with engine.db.reading() as session:
        row = open_task(session, task_id) if user_id is None else task_for(session, task_id, user_id)[1]
        instance = session.get(ProcessInstance, row.instance_id)
        workflow, spec = load_workflow(engine, instance)
        task = find_task(workflow, task_id)
        view = task_row_view(row)
        view.update({
            "form": spec.forms.get(row.form_key) if row.form_key else None,
            "instructions": (task.task_spec.documentation or "") if task else "",
            "data": visible_data(task.data) if task else {},
            "reviews": reviewed_ids(task.task_spec) if task else [],
            "item": item_summary(row.item) | {"description": row.item.description, "standard": row.item.standard},
        })
        return view


def visible_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_")}
