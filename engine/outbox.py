"""Handling domain events after their transaction commits (engine/events.py says why).

Each event name has at most one handler. A handler has two halves: `prepare(engine, event)` runs
outside any write transaction and may be slow (render a PDF, call a mail server); `apply(engine,
session, event, prepared)` runs in the short transaction that also marks the outbox row handled,
so its effect happens exactly once — if two workers prepared the same event, the second finds the
row handled and drops its work. A handler that raises leaves the row for a later try (back-off
1, 2, 4 … minutes) with the error kept for the administrator.

When handling happens is a setting (`Settings.outbox_dispatch`), the way it happens is not:
  thread    after commit, on a background thread of this process (the web app: the request that
            closed an item returns without waiting for its 销号单); a handler marked `slow` (a long
            document, a minute of layout) has a thread of its own, so the 销号单 never wait behind it
  inline    after commit, in the caller's thread (the CLI, tests: the record exists when it returns)
  deferred  only when `rectify outbox run` or `rectify tick` runs (several workers may share it)
Whatever a process did not get to — it crashed, it was stopped — `rectify outbox run` finishes.
A claim on a row is a lease (engine/store/outbox.py); a `prepare` longer than that renews it as it goes
(`keep_claim`), so that no other worker starts the same work meanwhile.
"""
from __future__ import annotations

import logging
import queue
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from engine.events import DomainEvent, decode, recorded
from engine.store import outbox as rows

if TYPE_CHECKING:
    from engine.core import Engine

log = logging.getLogger(__name__)
PENDING = "rectify.outbox_pending"  # session.info key: (id, name) of the rows this transaction wrote that need handling
DISPATCH_MODES = ("thread", "inline", "deferred")
_HANDLING: ContextVar[int | None] = ContextVar("rectify_outbox_row", default=None)  # the row `prepare` works on


class Handler(Protocol):
    def prepare(self, engine: Engine, event: DomainEvent) -> Any: ...

    def apply(self, engine: Engine, session: Session, event: DomainEvent, prepared: Any) -> None: ...


@dataclass
class OutboxReport:
    handled: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"handled": self.handled, "failed": self.failed, "errors": self.errors}


class Outbox:
    def __init__(self, engine: Engine, handlers: dict[str, Handler], dispatch: str = "inline"):
        if dispatch not in DISPATCH_MODES:
            raise ValueError(f"outbox dispatch must be one of {DISPATCH_MODES}, not {dispatch!r}")
        self.engine = engine
        self.handlers = handlers
        self.dispatch = dispatch
        self._lanes: dict[bool, tuple[queue.Queue, threading.Thread]] = {}  # slow or not → its queue and thread
        self._lock = threading.Lock()

    # -- the two transaction hooks (engine/store/db.py calls them) --------------------------------

    def write_recorded(self, session: Session) -> None:
        """Before commit: the events recorded on this unit of work become outbox rows, in one insert."""
        events = recorded(session)
        if events:
            ids = rows.write(session, events, self.handlers.__contains__, self.engine.clock.now())
            if ids:
                session.info[PENDING] = ids

    def _slow(self, name: str) -> bool:
        return getattr(self.handlers.get(name), "slow", False)

    def committed(self, info: dict) -> None:
        """After commit: have the new rows handled as the dispatch setting says."""
        written = info.get(PENDING)
        if not written or self.dispatch == "deferred":
            return
        if self.dispatch == "inline":
            self.run(ids=[row_id for row_id, _ in written])
            return
        for slow in (False, True):
            ids = [row_id for row_id, name in written if self._slow(name) == slow]
            if ids:
                self._lane(slow).put(ids)

    def _lane(self, slow: bool) -> queue.Queue:
        with self._lock:
            lane = self._lanes.get(slow)
            if lane is None or not lane[1].is_alive():
                work = lane[0] if lane else queue.Queue()
                thread = threading.Thread(target=self._work, args=(work,), daemon=True,
                                          name="rectify-outbox-slow" if slow else "rectify-outbox")
                thread.start()
                self._lanes[slow] = lane = (work, thread)
            return lane[0]

    def keep_claim(self) -> None:
        """From a handler's `prepare` that takes long: keep its row claimed for another lease (called as it
        makes progress). Nothing outside a `prepare`."""
        row_id = _HANDLING.get()
        if row_id is not None:
            with self.engine.db.apart() as session:
                rows.renew(session, row_id, self.engine.clock.now())

    # -- handling ------------------------------------------------------------------------------

    def run(self, now: datetime | None = None, limit: int = 1000, ids: list[int] | None = None,
            item_id: int | None = None, batch: int = 20) -> OutboxReport:
        """Handle due rows (all of them, or `ids`, or one item's), at most `limit`. Safe to run in
        several processes at once."""
        report = OutboxReport()
        while report.handled + report.failed < limit:
            moment = now or self.engine.clock.now()
            with self.engine.db.transaction() as session:
                claimed = [(r.id, r.name, dict(r.payload)) for r in rows.claim(
                    session, moment, min(batch, limit - report.handled - report.failed), ids, item_id)]
            if not claimed:
                break
            for row_id, name, payload in claimed:
                self._handle(row_id, name, payload, report)
        return report

    def _handle(self, row_id: int, name: str, payload: dict, report: OutboxReport) -> None:
        handler = self.handlers.get(name)
        try:
            event = decode(name, payload)
            token = _HANDLING.set(row_id)
            try:
                prepared = handler.prepare(self.engine, event) if handler else None
            finally:
                _HANDLING.reset(token)
            with self.engine.db.transaction() as session:
                row = rows.lock_unhandled(session, row_id)
                if row is None:
                    return  # another worker handled it meanwhile
                if handler:
                    handler.apply(self.engine, session, event, prepared)
                rows.mark_handled(row, self.engine.clock.now())
            report.handled += 1
        except Exception as exc:  # noqa: BLE001 — a failing handler must not stop the others
            log.exception("outbox event %s (%s) failed", row_id, name)
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            with self.engine.db.transaction() as session:
                rows.record_failure(session, row_id, message, self.engine.clock.now())
            report.failed += 1
            report.errors.append({"id": row_id, "event": name, "error": message})

    def _work(self, work: queue.Queue) -> None:
        while True:
            ids = work.get()
            try:
                self.run(ids=ids)
            except Exception:  # noqa: BLE001 — the rows stay for `rectify outbox run`
                log.exception("outbox thread: handling %s failed", ids)
            finally:
                work.task_done()

    def wait_idle(self) -> None:
        """Block until the background threads have handled everything queued so far."""
        for work, _ in list(self._lanes.values()):
            work.join()

    # -- reading -------------------------------------------------------------------------------

    def status(self) -> dict:
        """What waits: counts, and the failing rows with their last error (for the administrator)."""
        with self.engine.db.reading() as session:
            waiting = rows.pending(session)
            return {"pending": len(waiting), "failing": [{
                "id": r.id, "event": r.name, "item_id": r.item_id, "attempts": r.attempts, "error": r.last_error,
                "recorded_at": r.recorded_at.isoformat(), "next_try": r.available_at.isoformat(),
            } for r in waiting if r.last_error]}
