"""The lights stored on items (`items.light`), set again from the clock and each round's thresholds:
one item after a person's step, all open items (or a round's) on every tick and when a round's
thresholds change."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.store.models import STATUS_OPEN, InboxTask, Item

if TYPE_CHECKING:
    from engine.core import Engine


UNKNOWN = object()  # a due date the caller did not read: refresh_light asks the database


def refresh_light(engine: Engine, session: Session, item: Item, now: datetime, due=UNKNOWN) -> None:
    """The item's light now: its deadline's and its most pressing open step's (`due`: the earliest due
    date of its open tasks, when the caller knows it), by its round's thresholds."""
    if due is UNKNOWN:
        due = session.execute(select(func.min(InboxTask.due_date)).where(InboxTask.item_id == item.id)).scalar()
    light = engine.lights.for_round(item.round).item_light(item.deadline, item.status, now, due)
    if item.light != light:  # unchanged, the item stays clean and the save flushes nothing
        item.light = light


def relight_items(engine: Engine, session: Session, moment: datetime, round_id: int | None = None) -> dict[str, int]:
    """Set open items' lights (of one round, or all) from their deadline, their most pressing open
    step and their round's thresholds; returns how many items turned to each light."""
    rules = engine.lights.by_round(session)
    wanted: dict[str, list[int]] = {}
    dues = (select(InboxTask.item_id, func.min(InboxTask.due_date).label("due"))
            .group_by(InboxTask.item_id).subquery())
    query = (select(Item.id, Item.round_id, Item.deadline, Item.light, dues.c.due)
             .outerjoin(dues, dues.c.item_id == Item.id).where(Item.status == STATUS_OPEN))
    if round_id is not None:
        query = query.where(Item.round_id == round_id)
    for item_id, item_round, deadline, light, due in session.execute(query):
        new = rules[item_round].item_light(deadline, STATUS_OPEN, moment, due)
        if new != light:
            wanted.setdefault(new, []).append(item_id)
    changed: dict[str, int] = {}
    for light, ids in wanted.items():
        count = sum(session.execute(
            update(Item).where(Item.id.in_(chunk), Item.light != light).values(light=light),
            execution_options={"synchronize_session": False}).rowcount for chunk in _chunks(ids))
        if count:
            changed[light] = count
    return changed


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
