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
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

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


def local_day(session, column, tz: ZoneInfo):
    """SQL: the body's local date of a UTC datetime column (stored without zone). PostgreSQL converts
    exactly; SQLite adds the zone's offset of today (exact for zones without summer time, as China's)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, func.timezone("UTC", column)))
    minutes = int(datetime.now(tz).utcoffset().total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


def as_date(value) -> date | None:
    """A date from SQL's date(): a date on PostgreSQL, text on SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def round_trend(engine: Engine, session, round_: Round, today: date) -> dict:
    """{"weeks": [{"day", "closed", "planned_open", 绿/蓝/黄/红: n}], "target": planned open at the end}.
    Items are counted in SQL by (day closed, deadline): the weeks cost the same for 20 items as for 2,000."""
    closed = case((Item.status == STATUS_CLOSED, local_day(session, Item.closed_at, engine.lights.tz)), else_=None)
    each = select(closed.label("closed"), Item.deadline.label("deadline")).where(Item.round_id == round_.id).subquery()
    groups = [(as_date(day), deadline, n) for day, deadline, n in session.execute(
        select(each.c.closed, each.c.deadline, func.count()).group_by(each.c.closed, each.c.deadline))]
    rules = engine.lights.for_round(round_)
    weeks = []
    for day in week_ends(round_.feedback_date, today):
        moment = datetime.combine(day, time(12), engine.lights.tz)
        point = {"day": day.isoformat(), "closed": 0, "planned_open": 0, GREEN: 0, BLUE: 0, YELLOW: 0, RED: 0}
        for closed_on, deadline, n in groups:
            point["planned_open"] += n if deadline >= day else 0
            if closed_on is not None and closed_on <= day:
                point["closed"] += n
            else:
                point[rules.light(deadline, STATUS_OPEN, moment)] += n
        point["open"] = point[GREEN] + point[BLUE] + point[YELLOW] + point[RED]
        weeks.append(point)
    return {"weeks": weeks, "total": sum(n for _, _, n in groups)}
