"""What the round-level documents (ledger export, progress report, dashboard) need to know about many
items at once — current steps, last signer, observation, the officers' recorded work — each in one
query for a whole round (or all rounds), never one query per item."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.process.instances import SIDE_PROCESSES
from engine.store.models import (
    STATUS_CLOSED,
    InboxTask,
    Item,
    ProcessInstance,
    ProcessVersion,
    Signature,
    TaskRecord,
    User,
)

UNDER_OBSERVATION = "回头看观察期"
FINISHED = "已办结"


def _in_round(query, column, round_id: int | None, item_ids=None):
    """Restrict `query` (on a table with an item_id `column`) to the items of one round, or to the given
    items (one page of a list)."""
    if item_ids is not None:
        return query.where(column.in_(list(item_ids)))
    if round_id is None:
        return query
    return query.where(column.in_(select(Item.id).where(Item.round_id == round_id)))


def open_steps(session: Session, round_id: int | None, item_ids=None) -> dict[int, list[str]]:
    """Item id -> names of its open tasks, oldest first."""
    rows = session.execute(_in_round(
        select(InboxTask.item_id, InboxTask.name).order_by(InboxTask.created_at, InboxTask.id),
        InboxTask.item_id, round_id, item_ids))
    steps: dict[int, list[str]] = defaultdict(list)
    for item_id, name in rows:
        steps[item_id].append(name)
    return steps


def earliest_dues(session: Session, round_id: int | None, item_ids=None) -> dict[int, date]:
    """Item id -> the due date of its most pressing open task (the earliest), for its light."""
    rows = session.execute(_in_round(
        select(InboxTask.item_id, func.min(InboxTask.due_date)).where(InboxTask.due_date.is_not(None))
        .group_by(InboxTask.item_id), InboxTask.item_id, round_id, item_ids))
    return {item_id: due for item_id, due in rows}


def running_items(session: Session, round_id: int | None, item_ids=None) -> set[int]:
    """Items whose latest path (process instance other than a 回头看 or 变更审批) has not completed."""
    latest = _in_round(select(func.max(ProcessInstance.id)).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
                       .where(ProcessVersion.process_id.not_in(SIDE_PROCESSES)).group_by(ProcessInstance.item_id),
                       ProcessInstance.item_id, round_id, item_ids)
    return set(session.execute(select(ProcessInstance.item_id).where(
        ProcessInstance.id.in_(latest), ProcessInstance.completed.is_(False))).scalars())


def last_signers(session: Session, round_id: int | None, item_ids=None) -> dict[int, str]:
    """Item id -> name of whoever signed last (the latest signature, whatever the decision)."""
    latest = _in_round(select(func.max(Signature.id)).group_by(Signature.item_id), Signature.item_id, round_id,
                       item_ids)
    return dict(session.execute(select(Signature.item_id, Signature.signer_name).where(Signature.id.in_(latest))).all())


def work_records(session: Session, round_id: int | None) -> dict[int, list[dict]]:
    """Item id -> its completed (non sign-off) user steps in the order they were done, each as
    {"data", "bpmn_id", "version_id", "step", "by", "at"} (the step's process version, to tell which
    lane it was in; its name, who did it and when)."""
    rows = session.execute(_in_round(
        select(TaskRecord.item_id, TaskRecord.data, TaskRecord.bpmn_id, ProcessInstance.version_id, TaskRecord.name,
               User.name, TaskRecord.completed_at)
        .join(ProcessInstance, ProcessInstance.id == TaskRecord.instance_id)
        .outerjoin(User, User.id == TaskRecord.completed_by)
        .where(TaskRecord.kind == "user", TaskRecord.outcome == "completed", TaskRecord.data.is_not(None))
        .order_by(TaskRecord.id), TaskRecord.item_id, round_id))
    records: dict[int, list[dict]] = defaultdict(list)
    for item_id, data, bpmn_id, version_id, step, by, at in rows:
        if isinstance(data, dict):
            records[item_id].append({"data": data, "bpmn_id": bpmn_id, "version_id": version_id, "step": step,
                                     "by": by or "", "at": at})
    return records


def under_observation(item: Item, running: set[int]) -> bool:
    """Closed (已销号) but its path still runs: a long-term item in its 回头看 period."""
    return item.status == STATUS_CLOSED and item.id in running


def current_step(item: Item, steps: dict[int, list[str]], running: set[int]) -> str:
    """What the item waits for now, as a person would say it."""
    if steps.get(item.id):
        return "、".join(steps[item.id])
    if under_observation(item, running):
        return UNDER_OBSERVATION
    return FINISHED if item.status == STATUS_CLOSED else ""
