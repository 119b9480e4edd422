"""`tick(now)`: fire due timers, then recompute the lights. Idempotent: a timer fires once (it is
gone after its instance is saved). Several workers may tick at once: on PostgreSQL each instance is
claimed with FOR UPDATE SKIP LOCKED, so a worker passes over an instance another one (or a person
completing a task) holds, and the next tick fires what was passed over; on SQLite writers take
turns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import Conflict
from engine.ledger.relight import relight_items
from engine.notify.reminders import remind
from engine.process.instances import RunContext, advance, load_workflow
from engine.store import audit
from engine.store.models import InboxTask, Item, ProcessInstance, Timer

if TYPE_CHECKING:
    from engine.core import Engine


@dataclass
class TickReport:
    now: str
    timers_fired: int = 0
    instances_advanced: int = 0
    conflicts: int = 0
    skipped: int = 0  # held by another worker at that moment
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
        for instance_id in due:
            try:
                _fire(engine, instance_id, moment, report)
            except Conflict:
                report.conflicts += 1  # another worker advanced it first
        _update_lights(engine, moment, report)
        report.reminders = remind(engine, moment)
        # What a crashed process left in the outbox, and retries that are due (engine/outbox.py).
        report.outbox = engine.outbox.run(now=moment).as_dict()
        return report


def _fire(engine: Engine, instance_id: int, moment: datetime, report: TickReport) -> None:
    with engine.db.transaction() as session:
        instance = session.execute(
            select(ProcessInstance).where(ProcessInstance.id == instance_id)
            .with_for_update(of=ProcessInstance, skip_locked=True).execution_options(populate_existing=True)
        ).unique().scalar_one_or_none()
        if instance is None:
            report.skipped += 1  # another worker holds it (PostgreSQL); the next tick sees what is left
            return
        due = session.execute(
            select(Timer).where(Timer.instance_id == instance_id, Timer.due_at <= moment)
        ).scalars().all()
        if not due:
            return  # fired meanwhile by someone else
        item = session.get(Item, instance.item_id)
        before = set(session.execute(select(InboxTask.id).where(InboxTask.instance_id == instance_id)).scalars())
        workflow, _ = load_workflow(engine, instance)
        workflow.refresh_timers()
        advance(engine, session, instance, workflow, item, RunContext())
        created = session.execute(
            select(InboxTask).where(InboxTask.instance_id == instance_id, InboxTask.id.not_in(before))
        ).unique().scalars().all()
        report.timers_fired += len(due)
        report.instances_advanced += 1
        report.new_tasks.extend({"id": t.id, "item_id": item.id, "step": t.name, "role": t.lane_role} for t in created)
        audit.append(session, "timer.fire", "instance", instance_id, None,
                     timers=[t.bpmn_id for t in due], new_tasks=[t.name for t in created])


def _update_lights(engine: Engine, moment: datetime, report: TickReport) -> None:
    """Recompute open items' lights and audit the changes. Each change is a conditional UPDATE (`light`
    still differs), so of two ticks at once only the one whose UPDATE changed rows counts and audits
    them: PostgreSQL re-checks the condition after the other's commit, SQLite runs the two one after
    the other."""
    with engine.db.transaction() as session:
        report.lights_changed.update(relight_items(engine, session, moment))
        if report.lights_changed:
            audit.append(session, "lights.update", "items", "*", None, changed=report.lights_changed)
