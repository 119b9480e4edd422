"""An item's path (the process of its category) as a whole, for what changes an item from outside its
steps: moving its deadline (the 问责 moment and due dates move with it), handing its open tasks to the
people it now names, and ending it (a category change starts another; a withdrawal ends it for good).
Each joins the caller's transaction."""
from __future__ import annotations

from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.clock import CLOCK
from engine.events import TaskAssigned, note_closed_tasks, record
from engine.process.assignment import assign, excluded_by_review
from engine.process.bpmn import is_signoff, reviewed_ids, step_id
from engine.process.deploy import all_task_specs
from engine.process.instances import (
    SIDE_PROCESSES,
    RunContext,
    advance,
    deadline_data,
    find_task,
    load_workflow,
    version_spec,
)
from engine.process.mirror import due_date_of, seal_records
from engine.store.models import InboxTask, Item, ProcessInstance, ProcessVersion, TaskRecord, Timer

if TYPE_CHECKING:
    from engine.core import Engine


def running_paths(session: Session, item_id: int) -> list[ProcessInstance]:
    """The item's running path instances (not its 回头看 or 变更审批), locked for this transaction."""
    return list(session.execute(
        select(ProcessInstance).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .where(ProcessInstance.item_id == item_id, ProcessInstance.completed.is_(False),
               ProcessVersion.process_id.not_in(SIDE_PROCESSES))
        .with_for_update(of=ProcessInstance)).unique().scalars())


def latest_path(session: Session, item_id: int) -> ProcessInstance | None:
    """The item's latest path instance, running or finished (what its page draws)."""
    return session.execute(
        select(ProcessInstance).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .where(ProcessInstance.item_id == item_id, ProcessVersion.process_id.not_in(SIDE_PROCESSES))
        .order_by(ProcessInstance.id.desc()).limit(1)).unique().scalar_one_or_none()


def move_deadline(engine: Engine, session: Session, item: Item) -> None:
    """After `item.deadline` changed: every live step of its path sees the new `deadline` and
    `escalation_at` (its round's 红 point), a waiting date timer (the 问责 moment) is set again from its expression, and the
    open tasks' due dates follow."""
    data = deadline_data(engine, item)
    for instance in running_paths(session, item.id):
        workflow, _ = load_workflow(engine, instance)
        live = [t for t in workflow.get_tasks() if t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED,
                                                                 TaskState.FUTURE, TaskState.LIKELY, TaskState.MAYBE)]
        for task in live:
            task.data.update(data)
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, TimeDateEventDefinition) and task.state == TaskState.WAITING:
                task._set_internal_data(event_value=workflow.script_engine.evaluate(task, definition.expression))
        workflow.data.update(data)
        advance(engine, session, instance, workflow, item, RunContext())
        for row in session.execute(select(InboxTask).where(InboxTask.instance_id == instance.id)).scalars():
            task = find_task(workflow, row.id)
            if task is not None:
                row.due_date = due_date_of(task, item)


def reassign_open_tasks(engine: Engine, session: Session, item: Item) -> list[InboxTask]:
    """Every open task of the item goes to whom its lane names now (after the item's person, unit or
    leader changed); returns the tasks whose holder changed."""
    moved = []
    for row in session.execute(select(InboxTask).where(InboxTask.item_id == item.id)).scalars():
        excluded = (excluded_by_review(session, item.id, row.bpmn_id, reviewed_steps(engine, session, row))
                    if row.signoff else frozenset())
        holder = assign(session, item, row.lane_role, excluded)
        if holder != (row.assignee_id, row.scope_unit_id):
            row.assignee_id, row.scope_unit_id = holder
            moved.append(row)
            record(session, TaskAssigned(item.id, row.id, row.name, row.lane_role, row.assignee_id,
                                         row.due_date.isoformat() if row.due_date else ""))
    return moved


def reviewed_steps(engine: Engine, session: Session, row: InboxTask) -> list[str]:
    """The steps an open sign-off reviews (its `reviews` property), from its process version."""
    spec = version_spec(engine, session, session.get(ProcessInstance, row.instance_id).version_id)
    task_spec = next((t for t in all_task_specs(spec.spec, spec.subprocess_specs) if step_id(t) == row.bpmn_id), None)
    return reviewed_ids(task_spec) if task_spec is not None and is_signoff(task_spec) else []


def end_path(session: Session, item: Item) -> int:
    """End the item's running path: its open tasks are recorded as cancelled (their history stays),
    its timers go, its instance is marked finished. Returns how many tasks were cancelled."""
    now = CLOCK.now()
    cancelled = 0
    for instance in running_paths(session, item.id):
        rows = list(session.execute(select(InboxTask).where(InboxTask.instance_id == instance.id)).scalars())
        records = [{"task_id": r.id, "instance_id": instance.id, "item_id": item.id, "bpmn_id": r.bpmn_id, "name": r.name,
                    "kind": "signoff" if r.signoff else "user", "outcome": "cancelled", "completed_by": None,
                    "completed_at": now, "data": None} for r in rows]
        if records:
            session.execute(insert(TaskRecord), records)
            seal_records(session, records)
        session.execute(delete(InboxTask).where(InboxTask.instance_id == instance.id))
        note_closed_tasks(session, [r.id for r in rows])
        session.execute(delete(Timer).where(Timer.instance_id == instance.id))
        instance.completed, instance.updated_at = True, now
        cancelled += len(records)
    return cancelled
