"""Wrong passwords, counted so that guessing gets slower and slower while a stranger can never lock
somebody out of their own account.

Two kinds of failure are counted apart, because they come from different people:
  login     the login page, anonymous: each (name, source) pair, each source and each name get a
            few free tries, then a growing wait before the next one is even checked. The wait for a
            name across all sources is capped at a minute, so a distributed attack on a leader
            slows them down but never locks them out; the source's own wait grows to 15 minutes.
  confirm   a signed-in person typing their password again (sign-off, password change): only the
            session holder can cause these, so five within 15 minutes stop confirmations for the
            rest of that window — the signature stays the signer's to make.
A failure is counted whether or not the name exists, and a refusal says nothing about whether it does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import Forbidden
from engine.store.models import Base


class LoginFailure(Base):
    """Wrong passwords, counted across all web workers."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_at", "username", "at"),
                      Index("ix_login_failures_source_at", "remote_addr", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(10), default="login", server_default="login")


LOGIN, CONFIRM = "login", "confirm"
WINDOW = timedelta(minutes=15)
CONFIRM_LIMIT = 5


@dataclass(frozen=True)
class Backoff:
    free: int  # failures that cost nothing
    cap: timedelta  # the longest wait

    def wait(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(timedelta(seconds=2 ** (failures - self.free)), self.cap)


PAIR = Backoff(free=3, cap=WINDOW)  # one source guessing one name
SOURCE = Backoff(free=10, cap=WINDOW)  # one source trying many names (password spraying)
NAME = Backoff(free=20, cap=timedelta(minutes=1))  # many sources on one name: slowed, never locked


def _failures(session: Session, since: datetime, **match) -> tuple[int, datetime | None]:
    query = select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
        LoginFailure.kind == LOGIN, LoginFailure.at > since)
    for column, value in match.items():
        query = query.where(getattr(LoginFailure, column) == value)
    count, last = session.execute(query).one()
    return count, last


def login_wait(session: Session, name: str, source: str, now: datetime) -> timedelta:
    """How long `source` must still wait before a password for `name` is checked (zero: now)."""
    since = now - WINDOW
    remaining = timedelta(0)
    for backoff, match in ((PAIR, {"username": name, "remote_addr": source}), (SOURCE, {"remote_addr": source}),
                           (NAME, {"username": name})):
        if match.get("remote_addr", True) == "":
            continue  # no known source (CLI, tests): only the name counts
        count, last = _failures(session, since, **match)
        if last is not None:
            remaining = max(remaining, last + backoff.wait(count) - now)
    return remaining


def refuse_login_while_waiting(session: Session, name: str, source: str, now: datetime) -> None:
    wait = login_wait(session, name, source, now)
    if wait > timedelta(0):
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise Forbidden(f"尝试过于频繁，请 {seconds} 秒后再试" if seconds < 120 else
                        f"尝试过于频繁，请 {seconds // 60 + 1} 分钟后再试")


def count_login_failure(session: Session, name: str, source: str, now: datetime) -> None:
    session.add(LoginFailure(username=name[:100], remote_addr=source[:64], at=now, kind=LOGIN))


def forget_login_failures(session: Session, name: str, source: str) -> None:
    """A successful login clears what its own source got wrong for that name, nobody else's."""
    session.execute(delete(LoginFailure).where(
        LoginFailure.kind == LOGIN, LoginFailure.username == name, LoginFailure.remote_addr == source))


def refuse_confirmation_if_locked(session: Session, name: str, what: str, now: datetime) -> None:
    """Forbidden while `name` has CONFIRM_LIMIT wrong confirmations within WINDOW."""
    recent = session.execute(select(func.count(LoginFailure.id)).where(
        LoginFailure.kind == CONFIRM, LoginFailure.username == name, LoginFailure.at > now - WINDOW)).scalar_one()
    if recent >= CONFIRM_LIMIT:
        raise Forbidden(f"密码错误次数过多，{what}已暂停，请 {int(WINDOW.total_seconds() // 60)} 分钟后再试")


def count_confirmation_failure(session: Session, name: str, source: str, now: datetime) -> None:
    session.add(LoginFailure(username=name[:100], remote_addr=source[:64], at=now, kind=CONFIRM))
