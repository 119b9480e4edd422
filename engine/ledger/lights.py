"""红黄绿灯 (docs/domain.md, lights): a step's light from its due date, an item's from its deadline and
its most pressing open step, its status, the clock and its round's thresholds."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.store.models import STATUS_CLOSED, STATUS_WITHDRAWN, Round

GREEN, BLUE, YELLOW, RED, CLOSED, WITHDRAWN = "绿", "蓝", "黄", "红", "已销号", "已撤销"
LIGHTS = (GREEN, BLUE, YELLOW, RED, CLOSED)
LIGHT_TEXT = {
    GREEN: "正常推进", BLUE: "临近时限", YELLOW: "已超期", RED: "严重超期（问责）", CLOSED: "已销号", WITHDRAWN: "已撤销",
}


SEVERITY = {GREEN: 0, BLUE: 1, YELLOW: 2, RED: 3, CLOSED: -1, WITHDRAWN: -1}


@dataclass(frozen=True)
class Thresholds:
    """A round's thresholds, the published defaults unless the round says otherwise: 蓝 when due within
    `blue_days`; 黄 when more than `yellow_days` past due (0: the day after); 红, and 问责 for an item's
    deadline, when more than `red_days` past due."""

    blue_days: int = 7
    yellow_days: int = 0
    red_days: int = 30

    @classmethod
    def of(cls, round_: Round) -> Thresholds:
        return cls(round_.blue_days, round_.yellow_days, round_.red_days)


DEFAULT_THRESHOLDS = Thresholds()


class LightRules:
    """The lights of one set of thresholds in the body's time zone; `for_round` gives a round's."""

    def __init__(self, tz: str, thresholds: Thresholds = DEFAULT_THRESHOLDS):
        self.tz = ZoneInfo(tz)
        self.thresholds = thresholds
        self.due_soon_days, self.yellow_after_days, self.red_after_days = (
            thresholds.blue_days, thresholds.yellow_days, thresholds.red_days)
        self._tz_name = tz

    def with_thresholds(self, thresholds: Thresholds) -> LightRules:
        return self if thresholds == self.thresholds else _rules(self._tz_name, thresholds)

    def for_round(self, round_: Round) -> LightRules:
        return self.with_thresholds(Thresholds.of(round_))

    def by_round(self, session) -> defaultdict[int, LightRules]:
        """Every round's rules by round id, in one query (rounds are few); unknown ids get the defaults."""
        rows = session.execute(select(Round.id, Round.blue_days, Round.yellow_days, Round.red_days))
        return defaultdict(lambda: self, {rid: self.with_thresholds(Thresholds(b, y, r)) for rid, b, y, r in rows})

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def light(self, deadline: date, status: str, now: datetime) -> str:
        if status == STATUS_CLOSED:
            return CLOSED
        if status == STATUS_WITHDRAWN:
            return WITHDRAWN
        today = self.local_date(now)
        if today > deadline + timedelta(days=self.red_after_days):
            return RED
        if today > deadline + timedelta(days=self.yellow_after_days):
            return YELLOW
        if today > deadline:  # within the round's grace before 黄: still a warning, not 绿
            return BLUE
        if (deadline - today).days <= self.due_soon_days:
            return BLUE
        return GREEN

    def item_light(self, deadline: date, status: str, now: datetime, earliest_due: date | None = None) -> str:
        """An item's light: the worse of its deadline's and that of its most pressing open step (the
        one due first), so a plan overdue by weeks shows before the item's own deadline comes."""
        light = self.light(deadline, status, now)
        if earliest_due is None or light in (CLOSED, WITHDRAWN):
            return light
        step = self.light(earliest_due, status, now)
        return step if SEVERITY[step] > SEVERITY[light] else light

    def escalation_moment(self, deadline: date) -> datetime:
        """The first moment the item is 红: the start of the day after deadline + red_after_days."""
        day = deadline + timedelta(days=self.red_after_days + 1)
        return datetime.combine(day, time(0), self.tz)


@lru_cache(maxsize=256)
def _rules(tz: str, thresholds: Thresholds) -> LightRules:
    return LightRules(tz, thresholds)
