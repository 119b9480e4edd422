"""The outbox table: domain events written in the transaction of the change that raised them, and
the row-level operations their handling needs (claim, mark handled, record a failure).

A row whose event has no handler is written already handled: the table is also the log of what
happened. A row with a handler waits (`handled_at` NULL) until a worker claims it. Claims are
leases (`claimed_until`), taken with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite's write lock
serialises them), so several workers share the rows without taking the same one twice; the
handler's effect and `handled_at` commit together, so an event is handled exactly once.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.events import DomainEvent
from engine.store import closing_writes
from engine.store.models import Base

# How long a claim keeps other workers away while its handler prepares (render, send…). A claim
# by a process of this machine that has died is void at once (see `claim`).
LEASE = timedelta(minutes=2)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"  # after a fork (gunicorn) the pid is the child's


def _claim_is_void(claimed_by: str | None) -> bool:
    """A claim made by a process of this machine that no longer runs (it crashed or was killed)."""
    host, _, pid = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class OutboxEvent(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    item_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    payload: Mapped[dict]
    recorded_at: Mapped[datetime]
    handled_at: Mapped[Optional[datetime]]
    available_at: Mapped[datetime]
    claimed_until: Mapped[Optional[datetime]]
    claimed_by: Mapped[Optional[str]] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_pending", "handled_at", "available_at"),)


_OUTBOX = OutboxEvent.__table__
INSERT = _OUTBOX.insert().returning(_OUTBOX.c.id, _OUTBOX.c.name, _OUTBOX.c.handled_at)


def write(session: Session, events: Iterable[DomainEvent], needs_handling, now: datetime) -> list[tuple[int, str]]:
    """Insert the events in one statement; returns (id, name) of those a handler must still handle."""
    rows = [{"name": e.name, "item_id": e.item_id or None, "payload": e.payload(), "recorded_at": now,
             "handled_at": None if needs_handling(e.name) else now, "available_at": now, "attempts": 0}
            for e in events]
    if not rows:
        return []
    ids = closing_writes.execute_last(session, INSERT, rows).all()  # with the unit's held inserts (PostgreSQL)
    return [(row_id, name) for row_id, name, handled in ids if handled is None]


def _skip_locked(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def claim(session: Session, now: datetime, limit: int, ids: list[int] | None = None,
          item_id: int | None = None) -> list[OutboxEvent]:
    """Take up to `limit` due, unhandled rows (oldest first) for this worker: unclaimed ones, those
    whose lease ran out, and those claimed by a process of this machine that has died."""
    here = f"{socket.gethostname()}:%"
    query = select(OutboxEvent).where(
        OutboxEvent.handled_at.is_(None), OutboxEvent.available_at <= now,
        or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now, OutboxEvent.claimed_by.like(here)),
    ).order_by(OutboxEvent.claimed_until.is_not(None), OutboxEvent.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxEvent.id.in_(ids))
    if item_id is not None:
        query = query.where(OutboxEvent.item_id == item_id)
    rows = [row for row in session.execute(_skip_locked(session, query)).scalars()
            if row.claimed_until is None or row.claimed_until < now or _claim_is_void(row.claimed_by)]
    for row in rows:
        row.claimed_until, row.claimed_by = now + LEASE, _worker()
    return rows


def renew(session: Session, event_id: int, now: datetime) -> None:
    """Extend this process's claim on a row it is still handling (see Outbox.keep_claim)."""
    session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.handled_at.is_(None),
                                              OutboxEvent.claimed_by == _worker()).values(claimed_until=now + LEASE))


def lock_unhandled(session: Session, event_id: int) -> OutboxEvent | None:
    """The row, locked for this transaction, if nobody has handled it yet."""
    row = session.execute(select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update()).scalar_one_or_none()
    return row if row is not None and row.handled_at is None else None


def mark_handled(row: OutboxEvent, now: datetime) -> None:
    row.handled_at, row.claimed_until, row.claimed_by, row.last_error = now, None, None, None
    row.attempts += 1


def backoff(attempts: int) -> timedelta:
    """Retry after 1, 2, 4 … minutes, at most a day."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(days=1))


def record_failure(session: Session, event_id: int, error: str, now: datetime) -> None:
    row = session.get(OutboxEvent, event_id)
    if row is None or row.handled_at is not None:
        return
    attempts = row.attempts + 1
    session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(
        attempts=attempts, last_error=error[:2000], claimed_until=None, claimed_by=None,
        available_at=now + backoff(attempts)))


def pending(session: Session, item_id: int | None = None) -> list[OutboxEvent]:
    """Rows not handled yet (waiting, claimed or failing), oldest first."""
    query = select(OutboxEvent).where(OutboxEvent.handled_at.is_(None)).order_by(OutboxEvent.id)
    if item_id is not None:
        query = query.where(OutboxEvent.item_id == item_id)
    return list(session.execute(query).scalars())
