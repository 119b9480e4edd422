"""Logging in and changing passwords, with failed attempts limited across every web worker."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.clock import CLOCK
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.people.directory import check_new_password, user_summary
from engine.people.keys import rewrap_key
from engine.people.passwords import check_password, hash_password
from engine.people.sessions import end_sessions_of, open_session
from engine.people.throttle import (
    count_confirmation_failure,
    count_login_failure,
    forget_login_failures,
    refuse_confirmation_if_locked,
    refuse_login_while_waiting,
)
from engine.store import audit
from engine.store.models import Unit, User

if TYPE_CHECKING:
    from engine.core import Engine

BAD_LOGIN = "姓名或密码错误"
_DECOY: list[str] = []  # a hash checked for unknown names, so that they take as long as known ones


def _decoy_hash() -> str:
    if not _DECOY:
        _DECOY.append(hash_password(secrets.token_hex(16)))
    return _DECOY[0]


def refuse_if_locked(session, name: str, what: str) -> None:
    """Forbidden while `name` has too many wrong confirmations (sign-off, password change) just now."""
    refuse_confirmation_if_locked(session, name, what, CLOCK.now())


def record_wrong_password(engine: Engine, user_id: int, action: str, remote_addr: str = "") -> None:
    """Count a signed-in person's wrong password (sign-off, password change); its own transaction,
    since the action it belonged to failed and rolled back."""
    with engine.db.transaction() as session:
        user = session.get(User, user_id)
        count_confirmation_failure(session, user.name, remote_addr, CLOCK.now())
        audit.append(session, action, "user", user.id, user.name, remote_addr=remote_addr)


def _matching_user(session, name: str, unit: str | None, password: str) -> User | None:
    """The active user of that 登录名, or of that name (and unit), whose password this is. Namesakes are each tried;
    an unknown name costs a hash check too, so neither the answer nor its time tells who exists."""
    # A 登录名 names one account; otherwise the name (and unit) may name several namesakes.
    candidates = [] if unit else session.execute(select(User).where(User.login == name)).unique().scalars().all()
    if not candidates:
        query = select(User).where(User.name == name)
        if unit:
            query = query.join(Unit).where(Unit.name == unit.strip())
        candidates = session.execute(query).unique().scalars().all()
    matches = [u for u in candidates if check_password(u.password_hash, password) and u.active]
    if not candidates:
        check_password(_decoy_hash(), password)
    return matches[0] if len(matches) == 1 else None


def login(engine: Engine, name: str, password: str, unit: str | None = None, remote_addr: str = "") -> dict:
    """The user's summary when name and password match. Wrong passwords slow down further tries from
    the same source (engine/people/throttle.py); they never lock the account."""
    name = (name or "").strip()
    if not name or not password:
        raise InvalidInput("请填写姓名和密码", {f: "必填" for f, v in (("name", name), ("password", password)) if not v})
    now = CLOCK.now()
    with engine.db.transaction() as session:
        refuse_login_while_waiting(session, name, remote_addr, now)
        user = _matching_user(session, name, unit or None, password)
        if user is None:
            count_login_failure(session, name, remote_addr, now)
            audit.append(session, "login.failed", "user", name, name, remote_addr=remote_addr)
            failure = Forbidden(BAD_LOGIN)
        else:
            forget_login_failures(session, name, remote_addr)
            audit.append(session, "login", "user", user.id, user.name, remote_addr=remote_addr)
            return user_summary(user) | {"session_token": open_session(session, user.id, remote_addr)}
    raise failure  # after the commit, so the failure is counted


class WrongOldPassword(InvalidInput):
    """The current password given to change it was wrong (counted like a wrong sign-off password)."""


def change_password(engine: Engine, user_id: int, old: str, new: str, repeat: str, remote_addr: str = "",
                    keep_session: str | None = None) -> None:
    """Change one's own password; every other web session of the person ends (`keep_session`, the
    one in use, stays). Wrong current passwords count with wrong sign-off confirmations: both are a
    signed-in person guessing the same secret."""
    if new != repeat:
        raise InvalidInput("两次输入的新密码不一致", {"repeat": "两次输入的新密码不一致"})
    check_new_password(new)
    try:
        with engine.db.transaction() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            refuse_if_locked(session, user.name, "修改密码")
            if not check_password(user.password_hash, old):
                raise WrongOldPassword("原密码不正确", {"old": "原密码不正确"})
            user.password_hash, user.must_change_password = hash_password(new), False
            rewrap_key(engine, session, user, old, new)
            ended = end_sessions_of(session, user.id, keep_session)
            audit.append(session, "user.change_password", "user", user.id, user.name, sessions_ended=ended)
    except WrongOldPassword:
        record_wrong_password(engine, user_id, "user.change_password_failed", remote_addr)
        raise
