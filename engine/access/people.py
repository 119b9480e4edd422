"""人员管理 for 管理员: the people list, adding, editing, disabling, moving, resetting a password and
移交 — each action one engine call under the administrator's name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from engine.access.items import require_role
from engine.errors import NotFound
from engine.ledger.search import escape_like
from engine.people import admin
from engine.people.directory import add_user, name_and_unit, user_summary
from engine.store.models import ADMIN, ROLES, InboxTask, Unit, User

if TYPE_CHECKING:
    from engine.core import Engine


PAGE_SIZE = 100


def people_for(engine: Engine, user_id: int, query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> dict:
    """One page of the people (a body has thousands), by unit, searched by name, login or unit in SQL:
    {"people", "total", "page", "pages", "roles", "query"}."""
    with engine.db.reading() as session:
        require_role(session, user_id, ADMIN)
        statement = select(User.id)
        if query.strip():
            like = f"%{escape_like(query.strip())}%"
            statement = statement.join(Unit, Unit.id == User.unit_id).where(
                User.name.like(like, escape="\\") | User.login.like(like, escape="\\") | Unit.name.like(like, escape="\\"))
        total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
        pages = max(1, -(-total // page_size))
        number = min(max(1, page), pages)
        ids = session.execute(statement.order_by(User.unit_id, User.id).limit(page_size)
                              .offset((number - 1) * page_size)).scalars().all()
        people = session.execute(select(User).options(selectinload(User.grants)).where(User.id.in_(ids))
                                 .order_by(User.unit_id, User.id)).unique().scalars()
        return {"people": [user_summary(u) for u in people], "total": total, "page": number, "pages": pages,
                "roles": list(ROLES), "query": query}


def person_for(engine: Engine, user_id: int, person_id: int) -> dict:
    with engine.db.reading() as session:
        require_role(session, user_id, ADMIN)
        person = session.get(User, person_id)
        if person is None:
            raise NotFound("用户不存在")
        held = session.execute(select(InboxTask.id).where(InboxTask.assignee_id == person.id)).scalars().all()
        units = list(session.execute(select(Unit.name).order_by(Unit.name)).scalars())
        return user_summary(person) | {"open_tasks": len(held), "units": units, "all_roles": list(ROLES)}


def _actor(engine: Engine, user_id: int) -> str:
    with engine.db.reading() as session:
        actor = require_role(session, user_id, ADMIN)
        return actor.name


def _person_names(engine: Engine, person_id: int) -> tuple[str, str]:
    with engine.db.reading() as session:
        person = session.get(User, person_id)
        if person is None:
            raise NotFound("用户不存在")
        return person.name, person.unit.name


def add_person_for(engine: Engine, user_id: int, values: dict, roles: list[str]) -> dict:
    actor = _actor(engine, user_id)
    with engine.db.transaction():
        person = add_user(engine, values.get("name", ""), values.get("unit", ""), roles, values.get("password") or None,
                          actor=actor, login=values.get("login") or None)
        if values.get("password"):  # an initial password is one the person replaces at first login
            admin.reset_password(engine, person["id"], values["password"], actor)
        return person


def update_person_for(engine: Engine, user_id: int, person_id: int, values: dict, roles: list[str]) -> dict:
    actor = _actor(engine, user_id)
    with engine.db.transaction():
        result = admin.update_user(engine, person_id, name=values.get("name"), login=values.get("login", ""),
                                   roles=roles, actor=actor)
        unit = (values.get("unit") or "").strip()
        if unit and unit != result["unit"]:
            result = admin.move_user(engine, result["name"], unit, actor, result["unit"])
        return result


def set_active_for(engine: Engine, user_id: int, person_id: int, active: bool) -> dict:
    actor = _actor(engine, user_id)
    name, unit = _person_names(engine, person_id)
    return admin.set_active(engine, name, active, actor, unit)


def reset_password_for(engine: Engine, user_id: int, person_id: int, temporary: str) -> dict:
    return admin.reset_password(engine, person_id, temporary, _actor(engine, user_id))


def handover_for(engine: Engine, user_id: int, person_id: int, values: dict) -> dict:
    name, unit = _person_names(engine, person_id)
    successor, successor_unit = name_and_unit(values.get("to", ""))
    return admin.handover(engine, name, successor, user_id, values.get("reason", ""), values.get("password", ""),
                          unit, successor_unit)
