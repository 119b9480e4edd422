"""Dashboard figures (docs/domain.md, figures), for one round or all rounds, as plain values.
Withdrawn items (已撤销) are counted apart and left out of every other figure, the 销号率 included.

Counts come from SQL aggregates; lights are today's, from each open item's deadline, its most pressing
open step and the clock, by the same rules `tick` applies (so the figures are right even if `tick` has not run yet today). An
item is overdue when it is open and past its deadline (黄 or 红); days to close run from the round's
feedback date to the local date the item was closed."""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from engine.clock import CLOCK
from engine.ledger.items import ITEM_LOAD_OPTIONS
from engine.ledger.lights import BLUE, CLOSED, GREEN, LIGHTS, RED
from engine.ledger.round_facts import current_step, earliest_dues, open_steps, running_items
from engine.ledger.rounds import find_round, round_view, upward_due
from engine.ledger.supervision import supervision_figures
from engine.reports.round_work import lookback_results, rule_rows
from engine.reports.trend import as_date, local_day, round_trend
from engine.store.models import CATEGORIES, STATUS_CLOSED, STATUS_OPEN, STATUS_WITHDRAWN, InboxTask, Item, Round, Unit

if TYPE_CHECKING:
    from engine.core import Engine

TARGET_RATE = 0.95  # 销号率 target the practice literature names; a round sets its own (Round.close_target)
UPWARD_SOON_DAYS = 14


def _rate(closed: int, total: int) -> float | None:
    return round(closed / total, 4) if total else None


def _percent(rate: float | None) -> str:
    return f"{rate * 100:.1f}%" if rate is not None else "—"


def _scoped(query, round_id: int | None):
    """Restricted to a round (None: all), without withdrawn items (已撤销 counts neither way)."""
    query = query.where(Item.status != STATUS_WITHDRAWN)
    return query.where(Item.round_id == round_id) if round_id is not None else query


def _withdrawn(session, round_id: int | None) -> int:
    query = select(func.count(Item.id)).where(Item.status == STATUS_WITHDRAWN)
    return session.execute(query.where(Item.round_id == round_id) if round_id is not None else query).scalar()


def _counts(session, round_id, today: date, group_by=None) -> list[tuple]:
    """(key, total, closed, overdue) per value of `group_by`; with None, one row keyed None."""
    closed = func.sum(case((Item.status == STATUS_CLOSED, 1), else_=0))
    overdue = func.sum(case(((Item.status == STATUS_OPEN) & (Item.deadline < today), 1), else_=0))
    if group_by is None:
        query = select(func.count(Item.id), closed, overdue)
        return [(None, total, int(c or 0), int(o or 0)) for total, c, o in session.execute(_scoped(query, round_id))]
    query = select(group_by, func.count(Item.id), closed, overdue).select_from(Item).group_by(group_by)
    return [(key, total, int(c or 0), int(o or 0)) for key, total, c, o in session.execute(_scoped(query, round_id))]


def _by_unit(session, round_id, today: date, shown: int | None) -> tuple[list[tuple], int]:
    """The `shown` units with most problems (name, total, closed, overdue) and how many units have any:
    counted by unit id, and only the units shown are looked up by name."""
    counts = sorted(_counts(session, round_id, today, Item.unit_id), key=lambda r: (-r[1], r[0]))
    top = counts[:shown] if shown is not None else counts
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_([r[0] for r in top]))).all())
    rows = sorted(((names[u], t, c, o) for u, t, c, o in top), key=lambda r: (-r[1], r[0]))
    return rows, len(counts)


def _figures(key: str, value, total: int, closed: int, overdue: int) -> dict:
    rate = _rate(closed, total)
    return {key: value, "total": total, "closed": closed, "open": total - closed, "overdue": overdue,
            "closing_rate": rate, "closing_rate_text": _percent(rate)}


def _lights(engine: Engine, session, round_id, now) -> dict[str, int]:
    counts = Counter({light: 0 for light in LIGHTS})
    dues = select(InboxTask.item_id, func.min(InboxTask.due_date).label("due")).group_by(InboxTask.item_id).subquery()
    query = _scoped(select(Item.round_id, Item.deadline, Item.status, dues.c.due, func.count(Item.id))
                    .outerjoin(dues, dues.c.item_id == Item.id)
                    .group_by(Item.round_id, Item.deadline, Item.status, dues.c.due), round_id)
    rules, seen = engine.lights.by_round(session), {}
    for item_round, deadline, status, due, n in session.execute(query):
        # A light only worsens as its date is earlier, so an item's is that of its earlier date (deadline
        # or most pressing step; tests/unit/test_light_order.py): one light per (round, status, date).
        key = (item_round, status, min(deadline, due) if due else deadline)
        if key not in seen:
            seen[key] = rules[item_round].item_light(key[2], status, now)
        counts[seen[key]] += n
    return dict(counts)


OVERDUE_SHOWN = 50  # the dashboard lists the most overdue; the ledger lists them all (/items?overdue=1)
UNITS_SHOWN = 30  # the units with most problems; the rest are counted


def _overdue(engine: Engine, session, round_id, now, today: date, unit_id: int | None,
             limit: int | None, total: int | None = None) -> tuple[int, list[dict]]:
    """(how many open items are past their deadline, the most overdue of them) — of one unit if given;
    `total` when the caller counted them already."""
    scoped = _scoped(select(Item.id).where(Item.status == STATUS_OPEN, Item.deadline < today), round_id)
    if unit_id is not None:
        scoped = scoped.where(Item.unit_id == unit_id)
    if total is None:
        total = session.execute(select(func.count()).select_from(scoped.subquery())).scalar_one()
    ids = session.execute(scoped.order_by(Item.deadline, Item.id).limit(limit)).scalars().all()
    items = session.execute(select(Item).where(Item.id.in_(ids)).order_by(Item.deadline, Item.id)
                            .options(*ITEM_LOAD_OPTIONS)).unique().scalars().all()
    steps, running = open_steps(session, None, ids), running_items(session, None, ids)
    dues = earliest_dues(session, None, ids)
    rows = []
    for item in items:
        light = engine.lights.for_round(item.round).item_light(item.deadline, item.status, now, dues.get(item.id))
        rows.append({"id": item.id, "round": item.round.name, "number": item.number, "title": item.title,
                     "category": item.category, "unit": item.unit.name, "person": item.person.name,
                     "deadline": item.deadline.isoformat(), "days_overdue": (today - item.deadline).days,
                     "light": light, "step": current_step(item, steps, running)})
    return total, rows


def _average_days_to_close(engine: Engine, session, round_id) -> float | None:
    """Counted in SQL by (feedback date, local closing day): a few hundred rows however many closed."""
    closed = _scoped(select(local_day(session, Item.closed_at, engine.lights.tz).label("day"),
                            Round.feedback_date.label("feedback")).join(Round, Round.id == Item.round_id)
                     .where(Item.status == STATUS_CLOSED, Item.closed_at.is_not(None)), round_id).subquery()
    rows = session.execute(select(closed.c.day, closed.c.feedback, func.count())
                           .group_by(closed.c.day, closed.c.feedback)).all()
    count = sum(n for _, _, n in rows)
    if not count:
        return None
    return round(sum((as_date(day) - feedback).days * n for day, feedback, n in rows) / count, 1)


def _upward_report(round_: Round, today: date) -> dict:
    """The 整改情况报告's due date and its light: sent → 已报送; otherwise 绿, 蓝 within two weeks, 红 past due."""
    due = upward_due(round_)
    if round_.upward_sent_on:
        light, text = CLOSED, f"已于 {round_.upward_sent_on.isoformat()} 报送"
    elif today > due:
        light, text = RED, f"已超过报送时限 {(today - due).days} 天"
    else:
        light, text = (BLUE if (due - today).days <= UPWARD_SOON_DAYS else GREEN), f"距报送时限还有 {(due - today).days} 天"
    return {"due": due.isoformat(), "sent_on": round_.upward_sent_on.isoformat() if round_.upward_sent_on else None,
            "light": light, "text": text}


def dashboard(engine: Engine, round_id: int | str | None = None, overdue_unit_id: int | None = None,
              shown: tuple[int | None, int | None] = (OVERDUE_SHOWN, UNITS_SHOWN)) -> dict:
    """Every figure of the dashboard, for one round (id or name) or, with None, for all rounds; the list
    of overdue items only of `overdue_unit_id` when given (what an officer may open). A page lists the
    `shown` most overdue items and largest units (None: all, for the CLI's JSON)."""
    now = CLOCK.now()
    today = engine.lights.local_date(now)
    with engine.db.reading() as session:
        round_ = find_round(session, round_id) if round_id is not None else None
        scope = round_.id if round_ else None
        [(_, total, closed, overdue)] = _counts(session, scope, today)
        by_category = {key: (t, c, o) for key, t, c, o in _counts(session, scope, today, Item.category)}
        by_unit, units_total = _by_unit(session, scope, today, shown[1])
        rate = _rate(closed, total)
        target = round_.close_target / 100 if round_ and round_.close_target else TARGET_RATE
        lookbacks = lookback_results(session, scope)
        overdue_total, overdue_items = _overdue(engine, session, scope, now, today, overdue_unit_id, shown[0],
                                                None if overdue_unit_id is not None else overdue)
        result = _figures("scope", round_.name if round_ else "全部轮次", total, closed, overdue) | {
            "round": round_view(round_) if round_ else None,
            "as_of": today.isoformat(),
            "target_rate": target, "target_rate_text": _percent(target),
            "meets_target": rate is not None and rate >= target,
            "withdrawn": _withdrawn(session, scope),
            "supervision": supervision_figures(session, scope, today),
            "rules": len(rule_rows(session, scope)),
            "lookbacks": lookbacks | {"rebound_rate_text": _percent(lookbacks["rebound_rate"])},
            "upward_report": _upward_report(round_, today) if round_ else None,
            "trend": round_trend(engine, session, round_, today) if round_ else None,
            "lights": _lights(engine, session, scope, now),
            "by_category": [_figures("category", c, *by_category.get(c, (0, 0, 0))) for c in CATEGORIES],
            "by_unit": [_figures("unit", *row) for row in by_unit], "units_total": units_total,
            "overdue_total": overdue_total, "overdue_items": overdue_items,
            "average_days_to_close": _average_days_to_close(engine, session, scope),
        }
        if round_ is None:
            counts = {rid: (t, c, o) for rid, t, c, o in _counts(session, None, today, Item.round_id)}
            result["by_round"] = [_figures("round", {"id": rid, "name": name}, *counts.get(rid, (0, 0, 0)))
                                  for rid, name in session.execute(select(Round.id, Round.name).order_by(Round.id))]
        return result
