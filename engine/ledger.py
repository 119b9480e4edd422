"""Rounds and items of the problem ledger (问题台账): create, list, show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .assignment import holder_label
from .clock import CLOCK
from .directory import get_or_create_unit
from .errors import InvalidInput, NotFound
from .instances import start_instance
from .lights import LIGHT_TEXT
from .models import (
    CATEGORIES, LEADER, OFFICER, STATUS_OPEN, Aspect, EvidenceFile, InboxTask, Item, ProcessInstance, RoleGrant,
    Round, TaskRecord, Unit, User,
)
from .signoff import signature_view, verify_item_chain
from .models import Signature


def parse_date(value: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"「{label}」不是有效日期", {field: f"「{label}」应为 YYYY-MM-DD 格式的日期：{value}"}) from None


def add_round(engine, name: str, group: str, body: str, feedback_date: date, inspection_start: date | None = None,
              inspection_end: date | None = None, actor: str | None = None) -> dict:
    errors = {f: f"「{label}」不能为空" for f, label, v in (("name", "轮次名称", name), ("group", "巡察组", group),
                                                       ("body", "被巡察单位", body)) if not (v or "").strip()}
    if errors:
        raise InvalidInput("巡察轮次信息不完整", errors)
    with engine.db.transaction() as session:
        if session.execute(select(Round.id).where(Round.name == name.strip())).first():
            raise InvalidInput(f"轮次「{name}」已存在", {"name": "已存在同名轮次"})
        round_ = Round(name=name.strip(), inspection_group=group.strip(), inspected_body=body.strip(),
                       feedback_date=feedback_date, inspection_start=inspection_start,
                       inspection_end=inspection_end, created_at=CLOCK.now())
        session.add(round_)
        session.flush()
        audit.append(session, "round.add", "round", round_.id, actor, name=round_.name)
        return round_view(round_)


def round_view(round_: Round) -> dict:
    return {"id": round_.id, "name": round_.name, "group": round_.inspection_group, "body": round_.inspected_body,
            "feedback_date": round_.feedback_date.isoformat(),
            "inspection_start": round_.inspection_start.isoformat() if round_.inspection_start else None,
            "inspection_end": round_.inspection_end.isoformat() if round_.inspection_end else None}


def find_round(session: Session, name_or_id: str | int) -> Round:
    round_ = None
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        round_ = session.get(Round, int(name_or_id))
    if round_ is None:
        round_ = session.execute(select(Round).where(Round.name == str(name_or_id))).scalar_one_or_none()
    if round_ is None:
        raise NotFound(f"找不到巡察轮次「{name_or_id}」")
    return round_


def list_rounds(engine) -> list[dict]:
    with engine.db.reading() as session:
        return [round_view(r) for r in session.execute(select(Round).order_by(Round.id)).scalars()]


@dataclass
class NewItem:
    """One problem as the ledger states it; people are found or created by name within unit."""

    number: str
    title: str
    category: str
    unit: str
    person: str
    leader: str
    deadline: date
    aspect: str | None = None
    description: str = ""
    standard: str = ""
    third_party: bool = False
    publish: bool = True


def _person(session: Session, name: str, unit: Unit, role: str, leader_scope: bool = False) -> User:
    """Find a person by name (a leader anywhere in the body, others within the unit) or create one
    without a password; make sure they hold `role`."""
    query = select(User).where(User.name == name)
    if not leader_scope:
        query = query.where(User.unit_id == unit.id)
    users = session.execute(query.order_by(User.id)).unique().scalars().all()
    if leader_scope and len(users) > 1:
        users = [u for u in users if role in u.roles] or users
    user = users[0] if users else None
    if user is None:
        user = User(name=name, unit_id=unit.id, active=True, created_at=CLOCK.now())
        user.unit = unit
        session.add(user)
    if role not in user.roles:
        user.grants.append(RoleGrant(role=role))
    session.flush()
    return user


def create_item(engine, session: Session, round_: Round, new: NewItem) -> Item:
    """Create the item and start its path, inside the caller's transaction."""
    errors = {}
    for field, label in (("number", "序号"), ("title", "问题"), ("unit", "责任单位"), ("person", "责任人"),
                         ("leader", "分管领导")):
        if not str(getattr(new, field) or "").strip():
            errors[field] = f"「{label}」不能为空"
    if new.category not in CATEGORIES:
        errors["category"] = f"「整改类别」只能是：{'、'.join(CATEGORIES)}"
    if errors:
        raise InvalidInput("问题信息不完整", errors)
    if session.execute(select(Item.id).where(Item.round_id == round_.id, Item.number == new.number.strip())).first():
        raise InvalidInput(f"序号「{new.number}」在本轮次中已存在", {"number": "序号重复"})
    unit, _ = get_or_create_unit(session, new.unit)
    person = _person(session, new.person.strip(), unit, OFFICER)
    leader = _person(session, new.leader.strip(), unit, LEADER, leader_scope=True)
    aspect = None
    if new.aspect and new.aspect.strip():
        aspect = session.execute(
            select(Aspect).where(Aspect.round_id == round_.id, Aspect.title == new.aspect.strip())
        ).scalar_one_or_none()
        if aspect is None:
            position = session.execute(select(func.count(Aspect.id)).where(Aspect.round_id == round_.id)).scalar_one()
            aspect = Aspect(round_id=round_.id, position=position + 1, title=new.aspect.strip())
            session.add(aspect)
            session.flush()
    now = CLOCK.now()
    item = Item(
        round_id=round_.id, aspect_id=aspect.id if aspect else None, number=new.number.strip(), title=new.title.strip(),
        description=new.description or "", category=new.category, unit_id=unit.id, person_id=person.id,
        leader_id=leader.id, deadline=new.deadline, standard=new.standard or "", needs_third_party=new.third_party,
        publish=new.publish, status=STATUS_OPEN, light=engine.lights.light(new.deadline, STATUS_OPEN, now),
        created_at=now,
    )
    item.round, item.unit, item.person, item.leader, item.aspect = round_, unit, person, leader, aspect
    session.add(item)
    session.flush()
    start_instance(engine, session, item)
    return item


def add_item(engine, round_name: str, new: NewItem, actor: str | None = None) -> dict:
    with engine.db.transaction() as session:
        round_ = find_round(session, round_name)
        item = create_item(engine, session, round_, new)
        audit.append(session, "item.add", "item", item.id, actor, number=item.number, title=item.title,
                     category=item.category)
        return item_summary(item)


def item_summary(item: Item) -> dict:
    return {
        "id": item.id, "round": item.round.name, "number": item.number, "title": item.title,
        "aspect": item.aspect.title if item.aspect else None, "category": item.category, "unit": item.unit.name,
        "person": item.person.name, "leader": item.leader.name, "deadline": item.deadline.isoformat(),
        "status": item.status, "light": item.light, "light_text": LIGHT_TEXT.get(item.light, item.light),
        "needs_third_party": item.needs_third_party, "publish": item.publish,
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
    }


def list_items(engine, round_name: str | None = None, viewer_id: int | None = None) -> list[dict]:
    with engine.db.reading() as session:
        query = select(Item).order_by(Item.round_id, Item.id)
        if round_name:
            query = query.where(Item.round_id == find_round(session, round_name).id)
        if viewer_id is not None:
            viewer = session.get(User, viewer_id)
            if viewer is None:
                raise NotFound("用户不存在")
            if not viewer.sees_all_units:
                query = query.where(Item.unit_id == viewer.unit_id)
        return [item_summary(i) for i in session.execute(query).unique().scalars()]


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"事项 {item_id} 不存在")
    return item


def item_detail(engine, item_id: int) -> dict:
    """Fields, status, light, open tasks with who holds them, history and the signature chain."""
    with engine.db.reading() as session:
        item = get_item(session, item_id)
        open_tasks = session.execute(
            select(InboxTask).where(InboxTask.item_id == item_id).order_by(InboxTask.created_at, InboxTask.id)
        ).unique().scalars().all()
        history = session.execute(
            select(TaskRecord).where(TaskRecord.item_id == item_id).order_by(TaskRecord.id)
        ).unique().scalars().all()
        signatures = session.execute(
            select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)
        ).scalars().all()
        evidence = session.execute(
            select(EvidenceFile).where(EvidenceFile.item_id == item_id).order_by(EvidenceFile.id)
        ).scalars().all()
        instance = session.execute(
            select(ProcessInstance).where(ProcessInstance.item_id == item_id).order_by(ProcessInstance.id.desc())
        ).unique().scalars().first()
        chain = verify_item_chain(session, item_id)
        return item_summary(item) | {
            "description": item.description, "standard": item.standard,
            "process": {"id": instance.version.process_id, "version": instance.version_id,
                        "completed": instance.completed, "tree_depth": instance.tree_depth} if instance else None,
            "open_tasks": [{"id": t.id, "step": t.name, "bpmn_id": t.bpmn_id, "role": t.lane_role,
                            "assignee": holder_label(t), "signoff": t.signoff,
                            "due_date": t.due_date.isoformat() if t.due_date else None} for t in open_tasks],
            "history": [{"task_id": r.task_id, "bpmn_id": r.bpmn_id, "step": r.name, "kind": r.kind,
                         "outcome": r.outcome, "by": r.user.name if r.user else None,
                         "at": r.completed_at.isoformat(), "data": r.data} for r in history],
            "signatures": [signature_view(s) for s in signatures],
            "signature_chain_ok": chain.ok, "signature_chain_problem": chain.problem,
            "evidence": list({e.sha256: {"sha256": e.sha256, "name": e.name, "size": e.size}
                              for e in reversed(evidence)}.values())[::-1],
            "field_titles": _field_titles(engine, instance.version) if instance else {},
        }


def _field_titles(engine, version) -> dict[str, dict[str, str]]:
    """Per step (BPMN id), the Chinese titles of its form's fields, to label recorded data."""
    from .bpmn import form_key_of, step_id
    from .deploy import all_task_specs, loaded

    spec = loaded(engine, version)
    titles = {}
    for task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
        schema = spec.forms.get(form_key_of(task_spec) or "") or {}
        fields = {name: prop.get("title", name) for name, prop in (schema.get("properties") or {}).items()}
        titles[step_id(task_spec)] = {"decision": "决定", "opinion": "意见", **fields}
    return titles
