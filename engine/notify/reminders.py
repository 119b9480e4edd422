"""到期提醒: when an open task comes within the blue window of its due date (即将到期) and when it goes
past it (已超期), its holder is told once each — written by `tick`, which checks every open task
against the clock and its round's thresholds. A task remembers the worst light it was told about (`inbox_tasks.reminded`), so a
second tick, or a second process ticking at the same moment, tells nobody twice (the conditional
UPDATE claims each reminder)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

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
                   Item.id, Item.number, Item.title, Item.round_id)
            .join(Item, Item.id == InboxTask.item_id).join(User, User.id == InboxTask.assignee_id)
            .where(InboxTask.due_date.is_not(None), InboxTask.due_date <= today + timedelta(days=widest),
                   User.active.is_(True),
                   or_(InboxTask.reminded.is_(None), (InboxTask.reminded == BLUE) & (InboxTask.due_date < today)))
        ).all()
        notes = []
        for task_id, user_id, step, due, reminded, item_id, number, title, round_id in rows:
            light = rules[round_id].light(due, STATUS_OPEN, now)
            level = {BLUE: BLUE, YELLOW: YELLOW, RED: YELLOW}.get(light)
            if level is None or level == reminded:
                continue  # not yet due soon by its round's window, or within the grace before 黄
            claimed = session.execute(update(InboxTask).where(
                InboxTask.id == task_id, or_(InboxTask.reminded.is_(None), InboxTask.reminded != level))
                .values(reminded=level), execution_options={"synchronize_session": False}).rowcount
            if not claimed:
                continue  # another tick told them first
            text = (f"第{number}号「{title}」的「{step}」已超过期限 {due.isoformat()}，请尽快办理。" if due < today
                    else f"第{number}号「{title}」的「{step}」将于 {due.isoformat()} 到期。")
            notes.append({"user_id": user_id, "kind": OVERDUE if level == YELLOW else DUE_SOON, "item_id": item_id,
                          "task_id": task_id, "text": text, "created_at": now, "read_at": None})
        if notes:
            session.add_all([Notification(**n) for n in notes])
            queue_for_notifications(session, engine.settings, notes, now)
        return len(notes)
