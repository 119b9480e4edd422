"""Web sign-in sessions kept on the server, so that they can end: logging out ends the session,
changing one's password ends the person's other sessions, an administrator's reset or disabling
ends all of them, and a session unused for the idle time or older than the maximum age is over.

The browser holds a random token; the database keeps only its SHA-256, so a copy of the table
signs nobody in.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column

from engine.clock import CLOCK
from engine.notify.centre import unread_count
from engine.people.directory import user_summary
from engine.process.assignment import visible_to
from engine.store.models import Base, InboxTask, User

if TYPE_CHECKING:
    from engine.core import Engine

IDLE = timedelta(minutes=60)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=5)  # last_seen is written at most this often (a write per request is waste)


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the browser's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[Optional[datetime]]
    remote_addr: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_web_sessions_user", "user_id", "ended_at"),)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user_id: int, remote_addr: str = "") -> str:
    """A new session for the user, in the caller's transaction; returns the browser's token."""
    token, now = secrets.token_urlsafe(32), CLOCK.now()
    session.add(WebSession(id=_key(token), user_id=user_id, created_at=now, last_seen_at=now, ended_at=None,
                           remote_addr=remote_addr[:64]))
    return token


def _live(row: WebSession | None, now: datetime) -> bool:
    return (row is not None and row.ended_at is None and now - row.last_seen_at <= IDLE
            and now - row.created_at <= MAX_AGE)


def load_session(engine: Engine, token: str) -> dict | None:
    """For each web request: the signed-in person's summary with their 待办 count (the navigation bar
    shows it), or None if the session is over or the person disabled. One reading session; the
    last-seen time is written only every few minutes."""
    now = CLOCK.now()
    with engine.db.reading() as session:
        # the session row, its person and their roles in one statement (it runs on every request)
        found = session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id)
            .options(joinedload(User.grants), joinedload(User.unit)).where(WebSession.id == _key(token or ""))
        ).unique().first()
        if found is None or not _live(found[0], now):
            return None
        row, user = found
        if not user.active:
            return None
        count = session.execute(select(func.count(InboxTask.id)).where(visible_to(user))).scalar_one()
        stale = now - row.last_seen_at > TOUCH_EVERY
        summary = user_summary(user) | {"unit_id": user.unit_id, "inbox_count": count,
                                        "unread_count": unread_count(session, user.id)}
    if stale:
        with engine.db.transaction() as session:
            session.execute(update(WebSession).where(WebSession.id == _key(token)).values(last_seen_at=now))
    return summary


def end_session(engine: Engine, token: str) -> None:
    """Logging out: the token no longer signs anyone in, even if the browser kept its cookie."""
    with engine.db.transaction() as session:
        session.execute(update(WebSession).where(WebSession.id == _key(token or ""), WebSession.ended_at.is_(None))
                        .values(ended_at=CLOCK.now()))


def end_sessions_of(session: Session, user_id: int, keep_token: str | None = None) -> int:
    """End every open session of a person (but the one they are using, if given); in the caller's
    transaction. Returns how many ended."""
    query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if keep_token:
        query = query.where(WebSession.id != _key(keep_token))
    return session.execute(query.values(ended_at=CLOCK.now())).rowcount
