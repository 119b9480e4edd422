"""Logging in and changing passwords, with failed attempts limited across every web worker."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from engine.clock import CLOCK
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.people.directory import check_new_password, find_user, user_summary
from engine.people.passwords import check_password, hash_password
from engine.process.assignment import visible_to
from engine.store import audit
from engine.store.models import InboxTask, LoginFailure, User, person_with_roles

if TYPE_CHECKING:
    from engine.core import Engine

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
BAD_LOGIN = "姓名或密码错误"


def refuse_if_locked(session, name: str, what: str) -> None:
    """Forbidden while `name` has MAX_FAILURES wrong passwords within WINDOW (logins and sign-off
    confirmations count together: it is the same secret being guessed)."""
    recent = session.execute(select(func.count(LoginFailure.id)).where(
        LoginFailure.username == name, LoginFailure.at > CLOCK.now() - WINDOW)).scalar_one()
    if recent >= MAX_FAILURES:
        raise Forbidden(f"密码错误次数过多，{what}已暂停，请 {int(WINDOW.total_seconds() // 60)} 分钟后再试")


def record_wrong_password(engine: Engine, user_id: int, action: str, remote_addr: str = "") -> None:
    """Count a wrong password given outside the login page (its own transaction: the action failed)."""
    with engine.db.transaction() as session:
        user = session.get(User, user_id)
        session.add(LoginFailure(username=user.name, remote_addr=remote_addr[:64], at=CLOCK.now()))
        audit.append(session, action, "user", user.id, user.name, remote_addr=remote_addr)


def login(engine: Engine, name: str, password: str, unit: str | None = None, remote_addr: str = "") -> dict:
    """The user's summary when name and password match; refuses after MAX_FAILURES failures for the
    same name within WINDOW, whether or not the password is then right."""
    name = (name or "").strip()
    if not name or not password:
        raise InvalidInput("请填写姓名和密码", {f: "必填" for f, v in (("name", name), ("password", password)) if not v})
    now = CLOCK.now()
    with engine.db.transaction() as session:
        refuse_if_locked(session, name, "登录")
        try:
            user = find_user(session, name, unit or None)
            ok = user.active and check_password(user.password_hash, password)
        except (NotFound, InvalidInput) as exc:
            if isinstance(exc, InvalidInput):
                raise
            user, ok = None, False
        if not ok:
            session.add(LoginFailure(username=name, remote_addr=remote_addr[:64], at=now))
            audit.append(session, "login.failed", "user", user.id if user else name, name, remote_addr=remote_addr)
            failure = Forbidden(BAD_LOGIN)
        else:
            session.execute(delete(LoginFailure).where(LoginFailure.username == name))
            audit.append(session, "login", "user", user.id, user.name, remote_addr=remote_addr)
            return user_summary(user)
    raise failure  # after the commit, so the failure is counted


def change_password(engine: Engine, user_id: int, old: str, new: str, repeat: str) -> None:
    if new != repeat:
        raise InvalidInput("两次输入的新密码不一致", {"repeat": "两次输入的新密码不一致"})
    check_new_password(new)
    with engine.db.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在")
        if not check_password(user.password_hash, old):
            raise InvalidInput("原密码不正确", {"old": "原密码不正确"})
        user.password_hash = hash_password(new)
        audit.append(session, "user.change_password", "user", user.id, user.name)


def load_user(engine: Engine, user_id: int) -> dict | None:
    """For the web session: the user's summary with their 待办 count (every page's navigation bar
    shows it), or None if gone or deactivated — one session."""
    with engine.db.reading() as session:
        user = person_with_roles(session, user_id)
        if user is None or not user.active:
            return None
        count = session.execute(select(func.count(InboxTask.id)).where(visible_to(user))).scalar_one()
        return user_summary(user) | {"unit_id": user.unit_id, "inbox_count": count}
