"""Units, people and their roles. A person is identified by name within a unit."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.clock import CLOCK
from engine.errors import InvalidInput, NotFound
from engine.people.keys import issue_key
from engine.people.passwords import MIN_LENGTH, hash_password
from engine.store import audit
from engine.store.models import ROLES, RoleGrant, Unit, User

LOGIN_PATTERN = re.compile(r"[\w.\-]{2,50}")  # \w: letters, digits and CJK

if TYPE_CHECKING:
    from engine.core import Engine


def get_or_create_unit(session: Session, name: str) -> tuple[Unit, bool]:
    name = name.strip()
    if not name:
        raise InvalidInput("单位名称不能为空", {"unit": "单位名称不能为空"})
    unit = session.execute(select(Unit).where(Unit.name == name)).scalar_one_or_none()
    if unit is not None:
        return unit, False
    unit = Unit(name=name)
    session.add(unit)
    session.flush()
    return unit, True


def name_and_unit(text: str) -> tuple[str, str | None]:
    """「王伟（财务科）」 as typed in a form → ("王伟", "财务科"); a bare name → (name, None)."""
    name, _, unit = (text or "").strip().rstrip("）)").replace("(", "（").partition("（")
    return name.strip(), unit.strip() or None


def find_user(session: Session, name: str, unit: str | None = None) -> User:
    """The user whose 登录名 is `name`, else the user called `name` (in `unit` if given); refuses an
    ambiguous name."""
    if not unit:
        account = session.execute(select(User).where(User.login == name.strip())).unique().scalar_one_or_none()
        if account is not None:
            return account
    query = select(User).where(User.name == name.strip())
    if unit:
        query = query.join(Unit).where(Unit.name == unit.strip())
    users = session.execute(query).unique().scalars().all()
    if not users:
        where = f"（单位：{unit}）" if unit else ""
        raise NotFound(f"找不到用户「{name}」{where}")
    if len(users) > 1:
        units = "、".join(u.unit.name for u in users)
        raise InvalidInput(f"有多个名为「{name}」的用户（{units}），请指定单位", {"unit": "请指定单位"})
    return users[0]


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(
            f"未知角色：{'、'.join(unknown)}；可用角色：{'、'.join(ROLES)}", {"role": "未知角色"},
        )
    return list(dict.fromkeys(roles))


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"密码至少需要 {MIN_LENGTH} 位", {"password": f"密码至少需要 {MIN_LENGTH} 位"})


def check_login(session: Session, login: str, user: User | None = None) -> str:
    """A 登录名 that is free (or already this user's): letters, digits, . _ - or Chinese, 2–50 long."""
    login = (login or "").strip()
    if not LOGIN_PATTERN.fullmatch(login):
        raise InvalidInput("登录名无效", {"login": "登录名为 2–50 位字母、数字、汉字或 . _ -"})
    holder = session.execute(select(User.id).where(User.login == login)).scalar()
    if holder is not None and (user is None or holder != user.id):
        raise InvalidInput(f"登录名「{login}」已被使用", {"login": f"登录名「{login}」已被使用"})
    return login


def default_login(session: Session, name: str) -> str | None:
    """A new person's account is their name, unless a namesake or an account already has it (then an
    administrator gives them one; until then they log in by name and unit)."""
    if not LOGIN_PATTERN.fullmatch(name):
        return None
    namesakes = session.execute(select(func.count(User.id)).where(User.name == name)).scalar()
    taken = session.execute(select(User.id).where(User.login == name)).first()
    return name if namesakes <= 1 and taken is None else None


def add_user_in(session: Session, name: str, unit: str, roles: list[str], password: str | None = None,
                actor: str | None = None, login: str | None = None) -> tuple[User, bool]:
    """Create a user, or add roles to an existing one; returns (user, created)."""
    name = name.strip()
    if not name:
        raise InvalidInput("姓名不能为空", {"name": "姓名不能为空"})
    roles = check_roles(roles)
    unit_row, _ = get_or_create_unit(session, unit)
    user = session.execute(
        select(User).where(User.name == name, User.unit_id == unit_row.id)
    ).unique().scalar_one_or_none()
    created = user is None
    if created:
        user = User(name=name, unit_id=unit_row.id, active=True, created_at=CLOCK.now())
        user.unit = unit_row
        session.add(user)
    if login is not None:
        user.login = check_login(session, login, user)
    elif created:
        user.login = default_login(session, name)
    if password is not None:
        check_new_password(password)
        user.password_hash = hash_password(password)
    for role in roles:
        if role not in user.roles:
            user.grants.append(RoleGrant(role=role))
    session.flush()
    audit.append(session, "user.add" if created else "user.update", "user", user.id, actor,
                 name=name, unit=unit_row.name, roles=sorted(user.roles))
    return user, created


def add_user(engine: Engine, name: str, unit: str, roles: list[str], password: str | None = None,
             actor: str | None = None, login: str | None = None) -> dict:
    with engine.db.transaction() as session:
        user, created = add_user_in(session, name, unit, roles, password, actor, login)
        if password is not None:  # their signing key, wrapped under the password they now have
            issue_key(engine, session, user, password, actor, "管理员设置密码")
        return user_summary(user) | {"created": created}


def set_password(engine: Engine, name: str, password: str, unit: str | None = None, actor: str | None = None) -> dict:
    check_new_password(password)
    with engine.db.transaction() as session:
        user = find_user(session, name, unit)
        user.password_hash = hash_password(password)
        audit.append(session, "user.set_password", "user", user.id, actor, name=user.name)
        issue_key(engine, session, user, password, actor, "管理员设置密码")
        return user_summary(user)


def user_summary(user: User) -> dict:
    return {"id": user.id, "name": user.name, "login": user.login, "unit": user.unit.name, "roles": sorted(user.roles),
            "can_login": bool(user.password_hash) and user.active, "active": user.active,
            "must_change_password": bool(user.must_change_password)}


def list_users(engine: Engine) -> list[dict]:
    with engine.db.reading() as session:
        query = select(User).options(selectinload(User.grants)).order_by(User.unit_id, User.id)
        users = session.execute(query).unique().scalars().all()
        return [user_summary(u) for u in users]


def user_id_of(engine: Engine, name: str, unit: str | None = None) -> int:
    with engine.db.reading() as session:
        return find_user(session, name, unit).id
