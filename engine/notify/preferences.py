"""A person's own choices about being told (设置): their e-mail address, whether to receive e-mail and
webhook messages, and the hour of their daily digest (none: no digest). An administrator may set the
address too (`rectify users set-email`)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.errors import InvalidInput, NotFound
from engine.people.directory import find_user
from engine.store import audit
from engine.store.models import User

if TYPE_CHECKING:
    from engine.core import Engine

EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")


def check_email(address: str | None) -> str | None:
    address = (address or "").strip()
    if address and (len(address) > 200 or not EMAIL_PATTERN.fullmatch(address)):
        raise InvalidInput("电子邮箱格式不正确", {"email": f"「电子邮箱」格式不正确：{address}"})
    return address or None


def preferences_view(user: User) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email or "", "notify_email": user.notify_email,
            "notify_webhook": user.notify_webhook, "digest_hour": user.digest_hour}


def get_preferences(engine: Engine, user_id: int) -> dict:
    with engine.db.reading() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在")
        return preferences_view(user)


def set_preferences(engine: Engine, user_id: int, email: str | None, notify_email: bool, notify_webhook: bool,
                    digest_hour) -> dict:
    address = check_email(email)
    hour = None if digest_hour in (None, "") else str(digest_hour).strip()
    if hour is not None and (not hour.isdigit() or not 0 <= int(hour) <= 23):
        raise InvalidInput("摘要时间应为 0–23 点", {"digest_hour": "「每日摘要时间」应为 0–23 的整点，或不接收"})
    with engine.db.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在")
        user.email, user.notify_email, user.notify_webhook = address, bool(notify_email), bool(notify_webhook)
        user.digest_hour = int(hour) if hour is not None else None
        audit.append(session, "user.preferences", "user", user.id, user.name, email=address,
                     notify_email=user.notify_email, notify_webhook=user.notify_webhook, digest_hour=user.digest_hour)
        return preferences_view(user)


def set_email(engine: Engine, name: str, address: str, actor: str | None = None, unit: str | None = None) -> dict:
    """An administrator records someone's address."""
    address = check_email(address)
    with engine.db.transaction() as session:
        user = find_user(session, name, unit)
        user.email = address
        audit.append(session, "user.set_email", "user", user.id, actor, email=address)
        return preferences_view(user)
