"""到期提醒: when an open task comes within the blue window of its due date (即将到期) and when it goes
past it (已超期), its holder is told once each — written by `tick`, which checks every open task
against the clock and its round's thresholds. A task remembers the worst light it was told about (`inbox_tasks.reminded`), so a
second tick, or a second process ticking at the same moment, tells nobody twice (the conditional
UPDATE claims each reminder)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from engine.ledger.lights import BLUE, RED, YELLOW
from engine.notify.centre import Notification
from engine.notify.delivery import queue_for_notifications
from engine.store.models import STATUS_OPEN, InboxTask, Item, User

if TYPE_CHECKING:
    from engine.core import Engine

DUE_SOON, OVERDUE = "即将到期", "已超期"


def remind(engine: Engine, now: datetime) -> int:
    """Tell the holders of tasks that came due soon or went overdue since they were last told."""
    today = engine.lights.local_date(now)
    with engine.db.transaction() as session:
        rules = engine.lights.by_round(session)  # each round's 蓝 window and 黄 point
        widest = max([r.due_soon_days for r in rules.values()], default=engine.lights.due_soon_days)
        rows = session.execute(
            select(InboxTask.id, InboxTask.assignee_id, InboxTask.name, InboxTask.due_date, InboxTask.reminded,
                   Item.id.label("item_id"), Item.number, Item.title, Item.round_id)
            .join(Item, Item.id == InboxTask.item_id).join(User, User.id == InboxTask.assignee_id)
            .where(InboxTask.due_date.is_not(None), InboxTask.due_date <= today + timedelta(days=widest),
                   User.active.is_(True),
                   or_(InboxTask.reminded.is_(None), (InboxTask.reminded == BLUE) & (InboxTask.due_date < today)))
        ).all()
        wanted: dict[str, list] = {}
        for row in rows:
            light = rules[row.round_id].light(row.due_date, STATUS_OPEN, now)
            level = {BLUE: BLUE, YELLOW: YELLOW, RED: YELLOW}.get(light)
            if level is not None and level != row.reminded:  # else: not yet due soon, or within the grace before 黄
                wanted.setdefault(level, []).append(row)
        notes = []
        for level, due_rows in wanted.items():
            for chunk in (due_rows[i:i + 500] for i in range(0, len(due_rows), 500)):
                # One conditional UPDATE claims a chunk; what another tick told first is not returned.
                claimed = set(session.execute(InboxTask.__table__.update().where(
                    InboxTask.id.in_([r.id for r in chunk]),
                    or_(InboxTask.reminded.is_(None), InboxTask.reminded != level))
                    .values(reminded=level).returning(InboxTask.id)).scalars())
                notes += [_note(row, level, today, now) for row in chunk if row.id in claimed]
        if notes:
            session.execute(Notification.__table__.insert(), notes)
            queue_for_notifications(session, engine.settings, notes, now)
        return len(notes)


def _note(row, level: str, today, now: datetime) -> dict:
    text = (f"第{row.number}号「{row.title}」的「{row.name}」已超过期限 {row.due_date.isoformat()}，请尽快办理。"
            if row.due_date < today else f"第{row.number}号「{row.title}」的「{row.name}」将于 {row.due_date.isoformat()} 到期。")
    return {"user_id": row.assignee_id, "kind": OVERDUE if level == YELLOW else DUE_SOON, "item_id": row.item_id,
            "task_id": row.id, "text": text, "created_at": now, "read_at": None}
