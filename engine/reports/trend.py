"""整改进度趋势: a round's progress week by week — items closed, items open by light, and the plan
(items whose deadline has not yet come, i.e. still allowed to be open) — so a leader sees at a
glance whether the round will make its dates (a burn-down).

Each week is seen as of its last day (Sunday, the body's local date), the last point as of today.
Every problem counts from the feedback date (it was raised then, whenever the ledger was entered);
it is closed from the day it was closed; its light on a day follows the same rules as today's
light, from its deadline. An item reopened after a rebound
counts as open from then on for every week (its earlier closing is not kept apart), and a deadline
extended later shows the new deadline throughout: the chart reads the ledger as it stands."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.ledger.lights import BLUE, GREEN, RED, YELLOW
from engine.store.models import STATUS_CLOSED, STATUS_OPEN, Item, Round

if TYPE_CHECKING:
    from engine.core import Engine

MAX_WEEKS = 60  # a year and a bit; older weeks are dropped from the front


def week_ends(start: date, today: date) -> list[date]:
    """Every Sunday from the week of `start` up to today, then today (unless today is a Sunday)."""
    first = start + timedelta(days=6 - start.weekday())
    days = []
    day = first
    while day < today:
        days.append(day)
        day += timedelta(days=7)
    days.append(today)
    return days[-MAX_WEEKS:]


def round_trend(engine: Engine, session, round_: Round, today: date) -> dict:
    """{"weeks": [{"day", "closed", "planned_open", 绿/蓝/黄/红: n}], "target": planned open at the end}."""
    rows = session.execute(select(Item.closed_at, Item.deadline, Item.status).where(Item.round_id == round_.id)).all()
    local, rules = engine.lights.local_date, engine.lights.for_round(round_)
    items = [(local(closed) if closed and status == STATUS_CLOSED else None, deadline) for closed, deadline, status in rows]
    weeks = []
    for day in week_ends(round_.feedback_date, today):
        moment = datetime.combine(day, time(12), engine.lights.tz)
        point = {"day": day.isoformat(), "closed": 0, "planned_open": 0, GREEN: 0, BLUE: 0, YELLOW: 0, RED: 0}
        for closed, deadline in items:
            point["planned_open"] += deadline >= day
            if closed is not None and closed <= day:
                point["closed"] += 1
            else:
                point[rules.light(deadline, STATUS_OPEN, moment)] += 1
        point["open"] = point[GREEN] + point[BLUE] + point[YELLOW] + point[RED]
        weeks.append(point)
    return {"weeks": weeks, "total": len(items)}
