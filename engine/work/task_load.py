"""What completing a task reads, in one statement: the signed-in person with their roles and unit, the
open task, its instance (locked until commit), its item and round, whether the item's 责任人 and 分管领导
are active (for notifications), the earliest due date of the item's other open tasks (for its light) and
the audit chain's head (for a two-statement append). Reading them
one by one cost six round trips to the database on every completion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased, contains_eager

from engine.errors import Forbidden
from engine.events import note_active
from engine.process.assignment import refusal
from engine.store import audit
from engine.store.models import AuditHead, InboxTask, Item, ProcessInstance, RoleGrant, Round, Unit, User
from engine.work.inbox import task_for


@dataclass
class TaskToComplete:
    user: User
    row: InboxTask
    instance: ProcessInstance
    item: Item
    other_due: date | None  # the earliest due date of the item's open tasks besides this one


def _query():
    others = aliased(InboxTask)
    other_due = (select(func.min(others.due_date))
                 .where(others.item_id == InboxTask.item_id, others.id != InboxTask.id).scalar_subquery())
    people = aliased(User)
    active = [select(people.active).where(people.id == column).scalar_subquery() for column in (Item.person_id, Item.leader_id)]
    return (
        select(InboxTask, ProcessInstance, Item, Round, User, other_due, *active,
               AuditHead.count, AuditHead.last_hash, AuditHead.keyed_from)
        .join(ProcessInstance, ProcessInstance.id == InboxTask.instance_id)
        .join(Item, Item.id == InboxTask.item_id)
        .join(Round, Round.id == Item.round_id)
        .join(User, User.id == bindparam("user_id"))
        .outerjoin(Unit, Unit.id == User.unit_id)
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(AuditHead, AuditHead.id == 1)
        .options(contains_eager(User.unit), contains_eager(User.grants), contains_eager(Item.round))
        .where(InboxTask.id == bindparam("task_id"))
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    )


# Built once: constructing this statement (and its cache key) cost as much as running it.
LOAD = _query()


def load_task(session: Session, task_id: str, user_id: int) -> TaskToComplete:
    """The task `user_id` is about to complete, everything its completion needs, and the instance row
    locked (PostgreSQL; SQLite's write lock already serialises writers). Refusals as `task_for`'s."""
    found = session.execute(LOAD, {"task_id": task_id, "user_id": user_id}).unique().first()
    if found is None:
        task_for(session, task_id, user_id)  # raises what is wrong: no such user, task done or unknown
        raise Forbidden("该任务不可办理")  # unreachable unless the rows vanished between the two reads
    row, instance, item, _round, user, due, person_active, leader_active, *head = found
    note_active(session, [i for i, on in ((item.person_id, person_active), (item.leader_id, leader_active)) if on])
    if not user.active:
        raise Forbidden("账号已停用")
    reason = refusal(user, row)
    if reason:
        raise Forbidden(reason)
    if head[0] is not None:
        audit.remember_head(session, *head)
    return TaskToComplete(user, row, instance, item, due)
