"""The units, people and aspects a ledger's rows name: found among those that exist, or planned as
new. A whole file is resolved with a few queries, a preview can say what an import would create,
and `materialize` then creates exactly that — the same rules for one item added by hand.

Rules (docs/domain.md, ledger import): a unit by name; a 责任人 by name within the unit; a 分管领导 by
name anywhere in the body — someone who already holds the role, else the one namesake who already
sees every unit (a 主要领导), else the one person of that name, else created in the item's unit; several namesakes none of whom is a 分管领导 are ambiguous and
refuse the row. New people get no password (they cannot log in until an admin sets one). An existing
person named as 责任人 keeps their roles; one named as 分管领导 without holding the role is listed
as a role grant, which the import applies only when explicitly confirmed (分管领导 opens every unit's
items to its holder)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.clock import CLOCK
from engine.people.directory import LOGIN_PATTERN
from engine.store.models import BODY_WIDE_ROLES, LEADER, OFFICER, Aspect, RoleGrant, Round, Unit, User


@dataclass(eq=False)
class UnitRef:
    name: str
    row: Unit | None = None  # None until created
    is_new: bool = False


@dataclass(eq=False)
class PersonRef:
    name: str
    unit: UnitRef
    roles: set[str]
    row: User | None = None
    new_roles: list[str] = field(default_factory=list)
    is_new: bool = False


@dataclass(eq=False)
class AspectRef:
    title: str
    position: int
    row: Aspect | None = None
    is_new: bool = False


@dataclass
class Resolved:
    unit: UnitRef
    person: PersonRef
    leader: PersonRef
    aspect: AspectRef | None


class LedgerRefs:
    def __init__(self, session: Session, round_: Round):
        self.session, self.round = session, round_
        self.units: dict[str, UnitRef] = {}
        self.people: dict[str, list[PersonRef]] = {}  # by name: existing in id order, then new ones
        self.aspects: dict[str, AspectRef] | None = None
        self.ambiguous_leaders: dict[str, list[str]] = {}  # name -> units of its namesakes
        self._loaded_units: set[str] = set()
        self._loaded_people: set[str] = set()

    # Loading: one query per kind for all names not seen yet.
    def load(self, unit_names: Iterable[str], person_names: Iterable[str]) -> None:
        units = sorted(set(unit_names) - self._loaded_units)
        if units:
            for unit in self.session.execute(select(Unit).where(Unit.name.in_(units))).scalars():
                self.units.setdefault(unit.name, UnitRef(unit.name, unit))
            self._loaded_units.update(units)
        names = sorted(set(person_names) - self._loaded_people)
        if names:
            query = select(User).options(selectinload(User.grants)).where(User.name.in_(names)).order_by(User.id)
            users = self.session.execute(query).unique().scalars()
            for user in users:
                unit = self.units.setdefault(user.unit.name, UnitRef(user.unit.name, user.unit))
                self.people.setdefault(user.name, []).append(PersonRef(user.name, unit, set(user.roles), user))
            self._loaded_people.update(names)
        if self.aspects is None:
            rows = self.session.execute(
                select(Aspect).where(Aspect.round_id == self.round.id).order_by(Aspect.position)).scalars().all()
            self.aspects = {a.title: AspectRef(a.title, a.position, a) for a in rows}

    def unit(self, name: str) -> UnitRef:
        if name not in self.units:
            self.units[name] = UnitRef(name, is_new=True)
        return self.units[name]

    def _with_role(self, person: PersonRef, role: str) -> PersonRef:
        if role not in person.roles:
            person.roles.add(role)
            person.new_roles.append(role)
        return person

    def _new_person(self, name: str, unit: UnitRef, role: str) -> PersonRef:
        person = PersonRef(name, unit, {role}, new_roles=[role], is_new=True)
        self.people.setdefault(name, []).append(person)
        return person

    def person(self, name: str, unit: UnitRef, role: str = OFFICER) -> PersonRef:
        """Someone by name within `unit`. An existing person keeps their roles: a task of the
        item's 责任人 goes to them by name, and they already see their own unit's items."""
        found = next((p for p in self.people.get(name, []) if p.unit is unit), None)
        return found if found else self._new_person(name, unit, role)

    def leader(self, name: str, unit: UnitRef, role: str = LEADER) -> PersonRef:
        """Someone by name anywhere in the body, preferring holders of `role`; else new in `unit`."""
        candidates = self.people.get(name, [])
        holder = next((p for p in candidates if role in p.roles), None)
        if holder is not None:
            return holder
        body_wide = [p for p in candidates if p.roles & BODY_WIDE_ROLES]
        if len(body_wide) == 1:  # e.g. a 主要领导 leading an item: sees every unit already, no role needed
            return body_wide[0]
        if len(candidates) > 1:
            self.ambiguous_leaders[name] = [p.unit.name for p in candidates]
            return candidates[0]  # refused by the plan; returned so that the rest can be checked
        return self._with_role(candidates[0], role) if candidates else self._new_person(name, unit, role)

    def aspect(self, title: str) -> AspectRef:
        assert self.aspects is not None, "load() first"
        if title not in self.aspects:
            position = max((a.position for a in self.aspects.values()), default=0) + 1
            self.aspects[title] = AspectRef(title, position, is_new=True)
        return self.aspects[title]

    def resolve(self, unit: str, person: str, leader: str, aspect: str | None) -> Resolved:
        self.load([unit], [person, leader])
        unit_ref = self.unit(unit)
        person_ref = self.person(person, unit_ref)
        leader_ref = self.leader(leader, unit_ref)
        return Resolved(unit_ref, person_ref, leader_ref, self.aspect(aspect) if aspect else None)

    # What would be created, as plain values (for a preview).
    def new_units(self) -> list[str]:
        return [u.name for u in self.units.values() if u.is_new]

    def new_people(self) -> list[dict]:
        return [{"name": p.name, "unit": p.unit.name, "roles": sorted(p.roles), "can_login": False}
                for people in self.people.values() for p in people if p.is_new]

    def role_grants(self) -> list[dict]:
        """Roles existing people would gain, with what each role would let them see."""
        return [{"name": p.name, "unit": p.unit.name, "role": role, "user_id": p.row.id,
                 "effect": "可查看全部单位的问题及佐证材料" if role in BODY_WIDE_ROLES else "可办理本单位问题"}
                for people in self.people.values() for p in people if not p.is_new for role in p.new_roles]

    def new_aspects(self) -> list[str]:
        return [a.title for a in (self.aspects or {}).values() if a.is_new]

    def _default_logins(self, created: list[User]) -> None:
        """New people get their name as their 登录名 where nobody shares the name or holds that account
        (two queries for the whole ledger)."""
        if not created:
            return
        self.session.flush()
        names = {u.name for u in created}
        counts = dict(self.session.execute(select(User.name, func.count(User.id)).where(User.name.in_(names))
                                           .group_by(User.name)).all())
        taken = set(self.session.execute(select(User.login).where(User.login.in_(names))).scalars())
        for user in created:
            if counts.get(user.name) == 1 and user.name not in taken and LOGIN_PATTERN.fullmatch(user.name):
                user.login = user.name

    def materialize(self) -> None:
        """Create the planned units, people, role grants and aspects (one flush)."""
        session, now = self.session, CLOCK.now()
        for unit in self.units.values():
            if unit.row is None:
                unit.row = Unit(name=unit.name)
                session.add(unit.row)
        session.flush()
        for people in self.people.values():
            for person in people:
                if person.row is None:
                    person.row = User(name=person.name, unit_id=person.unit.row.id, active=True, created_at=now)
                    person.row.unit = person.unit.row
                    session.add(person.row)
                for role in person.new_roles:
                    person.row.grants.append(RoleGrant(role=role))
                person.new_roles = []
        self._default_logins([p.row for people in self.people.values() for p in people if p.row.id is None])
        for aspect in (self.aspects or {}).values():
            if aspect.row is None:
                aspect.row = Aspect(round_id=self.round.id, position=aspect.position, title=aspect.title)
                session.add(aspect.row)
        session.flush()

