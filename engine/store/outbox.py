"""The outbox table: domain events written in the transaction of the change that raised them, and
the row-level operations their handling needs (claim, mark handled, record a failure).

A row whose event has no handler is written already handled: the table is also the log of what
happened. A row with a handler waits (`handled_at` NULL) until a worker claims it. Claims are
leases (`claimed_until`), taken with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite's write lock
serialises them), so several workers share the rows without taking the same one twice; the
handler's effect and `handled_at` commit together, so an event is handled exactly once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import Index, Integer, String, Text, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.events import DomainEvent
from engine.store.models import Base

# How long a claim keeps other workers away while its handler prepares (render, send…).
LEASE = timedelta(minutes=5)


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
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_pending", "handled_at", "available_at"),)


def write(session: Session, events: Iterable[DomainEvent], needs_handling, now: datetime) -> list[int]:
    """Insert the events in one statement; returns the ids of those a handler must still handle."""
    rows = [{"name": e.name, "item_id": e.item_id, "payload": e.payload(), "recorded_at": now,
             "handled_at": None if needs_handling(e.name) else now, "available_at": now, "attempts": 0}
            for e in events]
    if not rows:
        return []
    ids = session.execute(insert(OutboxEvent).returning(OutboxEvent.id, OutboxEvent.handled_at), rows).all()
    return [row_id for row_id, handled in ids if handled is None]


def _skip_locked(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def claim(session: Session, now: datetime, limit: int, ids: list[int] | None = None,
          item_id: int | None = None) -> list[OutboxEvent]:
    """Take up to `limit` due, unclaimed, unhandled rows (oldest first) for this worker."""
    query = select(OutboxEvent).where(
        OutboxEvent.handled_at.is_(None), OutboxEvent.available_at <= now,
        or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
    ).order_by(OutboxEvent.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxEvent.id.in_(ids))
    if item_id is not None:
        query = query.where(OutboxEvent.item_id == item_id)
    rows = session.execute(_skip_locked(session, query)).scalars().all()
    for row in rows:
        row.claimed_until = now + LEASE
    return list(rows)


def lock_unhandled(session: Session, event_id: int) -> OutboxEvent | None:
    """The row, locked for this transaction, if nobody has handled it yet."""
    row = session.execute(select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update()).scalar_one_or_none()
    return row if row is not None and row.handled_at is None else None


def mark_handled(row: OutboxEvent, now: datetime) -> None:
    row.handled_at, row.claimed_until, row.last_error = now, None, None
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
        attempts=attempts, last_error=error[:2000], claimed_until=None, available_at=now + backoff(attempts)))


def pending(session: Session, item_id: int | None = None) -> list[OutboxEvent]:
    """Rows not handled yet (waiting, claimed or failing), oldest first."""
    query = select(OutboxEvent).where(OutboxEvent.handled_at.is_(None)).order_by(OutboxEvent.id)
    if item_id is not None:
        query = query.where(OutboxEvent.item_id == item_id)
    return list(session.execute(query).scalars())
