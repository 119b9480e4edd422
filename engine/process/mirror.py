"""The rows that mirror an instance's workflow in our tables: its open human tasks (inbox_tasks, 我的待办)
and its waiting timers (timers). They are written with every save of the instance, from the difference
between what the workflow had open when it was loaded (`Mirror`) and what it has open now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from engine.events import EscalationRaised, TaskAssigned, note_closed_tasks, record
from engine.process.assignment import assign, assign_gate
from engine.process.bpmn import (
    PROP_DUE,
    form_key_of,
    is_signoff,
    loop_of,
    properties_of,
    reviewed_ids,
    step_id,
    step_name,
)
from engine.store import audit
from engine.store.models import DISCIPLINE, InboxTask, Item, TaskRecord, Timer


@dataclass(frozen=True)
class Mirror:
    """An instance's open human tasks (id → bpmn id, name, is sign-off) and waiting timers (id → (bpmn
    id, due)): exactly what its inbox_tasks and timers rows hold after every save."""

    tasks: dict
    timers: dict


def mirror_of(workflow) -> Mirror:
    return Mirror({str(t.id): (step_id(t.task_spec), task_label(t)[:200], is_signoff(t.task_spec))
                   for t in human_tasks(workflow)}, waiting_timers(workflow))


def human_tasks(workflow, state=TaskState.READY):
    for wf in [workflow, *workflow.subprocesses.values()]:
        yield from wf.get_tasks(state=state, manual=True)


def open_tasks(workflow) -> dict:
    """The open (READY) human tasks by id, each once (a subprocess's can be listed twice)."""
    return {str(t.id): t for t in human_tasks(workflow)}


def task_label(task) -> str:
    """Step name, plus the element a multi-instance task works on (e.g. 建章立制：某某制度)."""
    name = step_name(task.task_spec)
    input_item = getattr(loop_of(task), "input_item", None)
    if input_item is not None:
        value = task.data.get(input_item.bpmn_id)
        if isinstance(value, dict):
            value = value.get("title") or value.get("name")
        if value:
            name = f"{name}：{value}"
    return name


def due_date_of(task, item: Item) -> date:
    expression = properties_of(task.task_spec).get(PROP_DUE)
    if expression:
        try:
            value = task.workflow.script_engine.evaluate(task, expression)
            return date.fromisoformat(str(value)[:10])
        except Exception:
            pass  # a bad expression is reported by `rectify workflows validate`; fall back to the item's
    return item.deadline


DELETE_TASKS = InboxTask.__table__.delete().where(InboxTask.id.in_(bindparam("ids", expanding=True)))


def sync_inbox(session: Session, instance, workflow, item, ctx, now: datetime) -> tuple[list, bool]:
    """Delete the rows of tasks no longer open, insert the new ones; returns the new rows' due dates
    and whether tasks were cancelled (ended without being done)."""
    if ctx.before is not None:
        existing = ctx.before.tasks
    else:
        existing = {row.id: (row.bpmn_id, row.name, row.signoff) for row in session.execute(
            select(InboxTask.id, InboxTask.bpmn_id, InboxTask.name, InboxTask.signoff)
            .where(InboxTask.instance_id == instance.id))}
    ready = open_tasks(workflow)
    gone = [task_id for task_id in existing if task_id not in ready]
    cancelled = []
    if gone:
        note_closed_tasks(session, gone)
        cancelled = [{  # ended without being done: cancelled by the process (e.g. closing ends 问责)
            "task_id": task_id, "instance_id": instance.id, "item_id": item.id, "bpmn_id": existing[task_id][0],
            "name": existing[task_id][1], "kind": "signoff" if existing[task_id][2] else "user",
            "outcome": "cancelled", "completed_by": None, "completed_at": now, "data": None,
        } for task_id in gone if task_id != ctx.completed_task_id]
        if cancelled:
            session.execute(insert(TaskRecord), cancelled)
            seal_records(session, cancelled)
    rows = new_inbox_rows(session, instance.id, [t for task_id, t in ready.items() if task_id not in existing],
                          item, now)
    _write_inbox(session, gone, rows)
    return [r["due_date"] for r in rows], bool(cancelled)


_INBOX = InboxTask.__table__
# A step usually closes one task and opens the next: that row is rewritten in place (one statement where a
# delete and an insert would be two). Nothing refers to inbox rows, so the row's id may change.
REPLACE_TASK = _INBOX.update().where(_INBOX.c.id == bindparam("old_id")).values(
    {column: bindparam(f"new_{column}") for column in _INBOX.c.keys()})


def _write_inbox(session: Session, gone: list[str], rows: list[dict]) -> None:
    """Remove the rows of closed tasks, add the new ones (Core: no ORM bookkeeping for rows nobody reads
    back here)."""
    paired = min(len(gone), len(rows))
    if paired:
        session.execute(REPLACE_TASK, [{"old_id": old, **{f"new_{k}": v for k, v in row.items()}}
                                       for old, row in zip(gone, rows)])
    if gone[paired:]:
        session.execute(DELETE_TASKS, {"ids": gone[paired:]})
    if rows[paired:]:
        session.execute(_INBOX.insert(), rows[paired:])


def new_inbox_rows(session: Session, instance_id: int, tasks, item: Item, now: datetime) -> list[dict]:
    """Inbox rows for newly open tasks, each assigned (docs/domain.md) and announced (TaskAssigned)."""
    rows = []
    for task in tasks:
        lane = task.task_spec.lane or ""
        assignee_id, scope_unit_id = (assign_gate(session, item, lane, step_id(task.task_spec),
                                                  reviewed_ids(task.task_spec))
                                      if is_signoff(task.task_spec) else assign(session, item, lane))
        row = {"id": str(task.id), "instance_id": instance_id, "item_id": item.id, "bpmn_id": step_id(task.task_spec),
               "name": task_label(task)[:200], "lane_role": lane, "assignee_id": assignee_id,
               "scope_unit_id": scope_unit_id, "form_key": form_key_of(task.task_spec),
               "signoff": is_signoff(task.task_spec), "due_date": due_date_of(task, item), "reminded": None,
               "created_at": now}
        rows.append(row)
        record(session, TaskAssigned(item.id, row["id"], row["name"], lane, assignee_id, row["due_date"].isoformat()))
        if lane == DISCIPLINE:  # a task for 纪检监察 is what 问责 looks like in any process
            record(session, EscalationRaised(item.id, row["id"], row["name"]))
    return rows


def timer_rows(instance_id: int, due: dict) -> list[dict]:
    return [{"instance_id": instance_id, "task_id": task_id, "bpmn_id": bpmn_id, "due_at": moment}
            for task_id, (bpmn_id, moment) in due.items()]


def waiting_timers(workflow) -> dict:
    """The workflow's waiting timers: task id → (bpmn id, due moment)."""
    due = {}
    for task in workflow.event_manager.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and task.has_state(TaskState.WAITING):
            moment = timer_due(task)
            if moment is not None:
                due[str(task.id)] = (step_id(task.task_spec), moment)
    return due


def timer_due(task) -> datetime | None:
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # cycle timers keep {'cycles', 'next', 'duration'}
        if value.get("cycles") == 0:
            return None
        value = value.get("next")
    due = TimerEventDefinition.get_datetime(str(value))
    return datetime.fromisoformat(due.isoformat())  # a stock datetime, not SpiffWorkflow's clocked one


def sync_timers(session, instance, workflow, before: Mirror | None) -> None:
    due = waiting_timers(workflow)
    if before is not None:
        if before.timers == due:
            return  # most steps leave the waiting timers as they were
    else:
        existing = {row.task_id: row.due_at for row in session.execute(
            select(Timer.task_id, Timer.due_at).where(Timer.instance_id == instance.id))}
        if existing == {task_id: moment for task_id, (_, moment) in due.items()}:
            return
    # synchronize_session=False: nothing in the session holds Timer objects, and checking them all
    # made a long import slower with every item.
    session.execute(delete(Timer).where(Timer.instance_id == instance.id), execution_options={"synchronize_session": False})
    if due:
        session.execute(Timer.__table__.insert(), timer_rows(instance.id, due))


def seal_records(session: Session, rows: list[dict]) -> None:
    for row in rows:
        audit.seal(session, "task_records", row["task_id"], audit.task_record_digest(row))
