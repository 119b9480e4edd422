"""`tick(now)`: fire due timers, then recompute the lights. Idempotent: a timer fires once (it is
gone after its instance is saved). Timers fire in batches of instances, one transaction a batch (one
commit, one audit append, one pass of the notifications): the sweep's cost is the workflows', not the
commits'. If one instance's process fails, its batch is run again with each instance in a savepoint,
so the failing one is reported and left for the next tick while the rest of its batch fires. Several workers may tick at once: on PostgreSQL a batch
claims its instances with FOR UPDATE SKIP LOCKED, so a worker passes over instances another one (or a
person completing a task) holds, and the next tick fires what was passed over; on SQLite writers take
turns."""
from __future__ import annotations

import copy
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.ledger.relight import relight_items
from engine.notify.reminders import remind
from engine.process.instances import RunContext, advance, load_workflow
from engine.process.mirror import mirror_of
from engine.store import audit
from engine.store.models import InboxTask, Item, ProcessInstance, Timer

if TYPE_CHECKING:
    from engine.core import Engine

BATCH = 100  # instances a transaction
log = logging.getLogger(__name__)


@dataclass
class TickReport:
    now: str
    timers_fired: int = 0
    instances_advanced: int = 0
    conflicts: int = 0
    skipped: int = 0  # held by another worker at that moment
    failed: list = field(default_factory=list)  # {"instance_id", "item_id", "error"}: left for the next tick
    lights_changed: dict = field(default_factory=dict)
    new_tasks: list = field(default_factory=list)
    outbox: dict = field(default_factory=dict)
    reminders: int = 0  # 即将到期 / 已超期 notifications written


def tick(engine: Engine, now: datetime | None = None) -> TickReport:
    with engine.clock.pinned(now):
        moment = engine.clock.now()
        report = TickReport(now=moment.isoformat())
        with engine.db.reading() as session:
            due = session.execute(
                select(Timer.instance_id).where(Timer.due_at <= moment).group_by(Timer.instance_id)
                .order_by(Timer.instance_id)
            ).scalars().all()
        for start in range(0, len(due), BATCH):
            _fire_batch(engine, due[start:start + BATCH], moment, report)
        _update_lights(engine, moment, report)
        report.reminders = remind(engine, moment)
        # What a crashed process left in the outbox, and retries that are due (engine/outbox.py).
        report.outbox = engine.outbox.run(now=moment).as_dict()
        return report


class _Isolate(Exception):
    """An instance failed in a batch run without savepoints: run the batch again, each in its own."""


def _fire_batch(engine: Engine, instance_ids: list[int], moment: datetime, report: TickReport) -> None:
    """Fire a batch in one transaction. First without a savepoint per instance (two statements fewer per
    firing); if any instance fails, that transaction is rolled back and the batch is run again with each
    instance in a savepoint, so the failing one is reported and the rest still fire."""
    attempt = TickReport(now=report.now)
    try:
        _fire(engine, instance_ids, moment, attempt, isolated=False)
    except _Isolate:
        attempt = TickReport(now=report.now)
        _fire(engine, instance_ids, moment, attempt, isolated=True)
    report.skipped += attempt.skipped
    report.conflicts += attempt.conflicts
    report.failed += attempt.failed
    report.timers_fired += attempt.timers_fired
    report.instances_advanced += attempt.instances_advanced
    report.new_tasks += attempt.new_tasks


def _fire(engine: Engine, instance_ids: list[int], moment: datetime, report: TickReport, isolated: bool) -> None:
    with engine.db.transaction() as session:
        instances = session.execute(
            select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids)).order_by(ProcessInstance.id)
            .with_for_update(of=ProcessInstance, skip_locked=True).execution_options(populate_existing=True)
        ).unique().scalars().all()
        report.skipped += len(instance_ids) - len(instances)  # another worker holds them (PostgreSQL)
        ids = [i.id for i in instances]
        due: dict[int, list[Timer]] = defaultdict(list)
        for timer in session.execute(select(Timer).where(Timer.instance_id.in_(ids), Timer.due_at <= moment)).scalars():
            due[timer.instance_id].append(timer)
        items = {i.id: i for i in session.execute(
            select(Item).where(Item.id.in_({i.item_id for i in instances}))).unique().scalars()}
        before = set(session.execute(select(InboxTask.id).where(InboxTask.instance_id.in_(ids))).scalars())
        fired = []
        for instance in instances:
            if due.get(instance.id) and _fire_one(engine, session, instance, items[instance.item_id], report, isolated):
                fired.append(instance)
        if not fired:
            return
        created: dict[int, list[InboxTask]] = defaultdict(list)
        for task in session.execute(select(InboxTask).where(
                InboxTask.instance_id.in_([i.id for i in fired]), InboxTask.id.not_in(before))).unique().scalars():
            created[task.instance_id].append(task)
        entries = []
        for instance in fired:
            timers, new = due[instance.id], created[instance.id]
            report.timers_fired += len(timers)
            report.instances_advanced += 1
            report.new_tasks.extend({"id": t.id, "item_id": instance.item_id, "step": t.name, "role": t.lane_role}
                                    for t in new)
            entries.append(("timer.fire", "instance", instance.id, None,
                            {"timers": [t.bpmn_id for t in timers], "new_tasks": [t.name for t in new]}))
        audit.append_many(session, entries)


def _fire_one(engine: Engine, session: Session, instance: ProcessInstance, item: Item, report: TickReport,
              isolated: bool) -> bool:
    """Advance one instance past its due timers. Isolated: in a savepoint, False (and nothing of it kept)
    if it fails. Not isolated: a failure raises _Isolate (the caller rolls the batch back)."""
    if not isolated:
        try:
            _run_timers(engine, session, instance, item)
            return True
        except Exception as exc:  # noqa: BLE001 — any failure: redo the batch instance by instance
            raise _Isolate() from exc
    kept = {key: copy.copy(value) for key, value in session.info.items()}  # events and seals recorded so far
    try:
        with session.begin_nested():
            _run_timers(engine, session, instance, item)
        return True
    except Conflict:
        report.conflicts += 1  # a person's step advanced it first
    except Exception as exc:  # noqa: BLE001 — a broken process must not stop every other item's timers
        log.exception("timer of instance %s failed", instance.id)
        report.failed.append({"instance_id": instance.id, "item_id": item.id, "error": f"{type(exc).__name__}: {exc}"})
    session.info.clear()
    session.info.update(kept)
    return False


def _run_timers(engine: Engine, session: Session, instance: ProcessInstance, item: Item) -> None:
    workflow, _ = load_workflow(engine, instance)
    before = mirror_of(workflow)
    workflow.refresh_timers()
    advance(engine, session, instance, workflow, item, RunContext(before=before))


def _update_lights(engine: Engine, moment: datetime, report: TickReport) -> None:
    """Recompute open items' lights and audit the changes. Each change is a conditional UPDATE (`light`
    still differs), so of two ticks at once only the one whose UPDATE changed rows counts and audits
    them: PostgreSQL re-checks the condition after the other's commit, SQLite runs the two one after
    the other."""
    with engine.db.transaction() as session:
        report.lights_changed.update(relight_items(engine, session, moment))
        if report.lights_changed:
            audit.append(session, "lights.update", "items", "*", None, changed=report.lights_changed)
