"""红黄绿灯 (docs/domain.md, lights): a step's light from its due date, an item's from its deadline and
its most pressing open step, its status and the clock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.store.models import STATUS_CLOSED, STATUS_WITHDRAWN

GREEN, BLUE, YELLOW, RED, CLOSED, WITHDRAWN = "绿", "蓝", "黄", "红", "已销号", "已撤销"
LIGHTS = (GREEN, BLUE, YELLOW, RED, CLOSED)
LIGHT_TEXT = {
    GREEN: "正常推进", BLUE: "临近时限", YELLOW: "已超期", RED: "严重超期（问责）", CLOSED: "已销号", WITHDRAWN: "已撤销",
}


SEVERITY = {GREEN: 0, BLUE: 1, YELLOW: 2, RED: 3, CLOSED: -1, WITHDRAWN: -1}


class LightRules:
    def __init__(self, tz: str, due_soon_days: int, red_after_days: int):
        self.tz = ZoneInfo(tz)
        self.due_soon_days = due_soon_days
        self.red_after_days = red_after_days

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
        if today > deadline:
            return YELLOW
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
