"""The one clock of the engine (docs/domain.md, lights).

Every "now" in the engine comes from `CLOCK`, SpiffWorkflow's timer events included, so tests and
`rectify tick --now` can move time for the whole engine at once.
"""
from __future__ import annotations

import calendar
import threading
from contextlib import contextmanager
from datetime import date, datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock:
    """Real time unless a moment is pinned; pinning is per thread, so a web request is never affected
    by a tick pinned in another thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def now(self) -> datetime:
        pinned = getattr(self._local, "pinned", None)
        return pinned if pinned is not None else datetime.now(timezone.utc)

    @contextmanager
    def pinned(self, moment: datetime | None):
        """Run a block with `now()` fixed at `moment` (aware datetime); None leaves real time."""
        if moment is None:
            yield
            return
        if moment.tzinfo is None:
            raise ValueError("the clock needs a moment with a time zone")
        previous = getattr(self._local, "pinned", None)
        self._local.pinned = moment.astimezone(timezone.utc)
        try:
            yield
        finally:
            self._local.pinned = previous


CLOCK = Clock()


class _ClockedDatetime(datetime):
    """SpiffWorkflow's timer module reads `datetime.now(timezone.utc)` directly; this subclass is
    the only seam it leaves to route that through our clock. Everything else is stock datetime."""

    @classmethod
    def now(cls, tz=None):
        moment = CLOCK.now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day: 12-31 + 2 → 02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
