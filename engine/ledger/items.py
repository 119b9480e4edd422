"""Rounds and items of the problem ledger (问题台账): create, list, show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.store import audit
from engine.process.assignment import holder_label
from engine.clock import CLOCK
from engine.errors import InvalidInput, NotFound
from engine.process.instances import start_instance
from engine.ledger.refs import LedgerRefs, Resolved
from engine.ledger.lights import LIGHT_TEXT
from engine.store.models import (
    CATEGORIES, STATUS_OPEN, EvidenceFile, InboxTask, Item, ProcessInstance, Round, Signature, TaskRecord,
    person_with_roles,
)
from engine.work.signoff import signature_view, verify_item_chain


def parse_date(value: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"「{label}」不是有效日期", {field: f"「{label}」应为 YYYY-MM-DD 格式的日期：{value}"}) from None


ROUND_FIELDS = {  # round_view key -> (model attribute, label, kind)
    "name": ("name", "轮次名称", "required"), "group": ("inspection_group", "巡察组", "required"),
    "body": ("inspected_body", "被巡察单位", "required"), "feedback_date": ("feedback_date", "反馈日期", "required_date"),
    "inspection_start": ("inspection_start", "巡察开始日期", "date"),
    "inspection_end": ("inspection_end", "巡察结束日期", "date"),
    "report_practices": ("report_practices", "整改主要做法", "text"),
    "report_next_steps": ("report_next_steps", "下一步工作打算", "text"),
    "report_contact": ("report_contact", "联系方式", "text"), "report_issuer": ("report_issuer", "发布单位", "text"),
    "report_date": ("report_date", "发布日期", "date"),
}
REPORT_TEXT_FIELDS = ("report_practices", "report_next_steps", "report_contact", "report_issuer", "report_date")


def _round_value(key: str, value):
    """A round field's value checked and normalised (dates may be given as YYYY-MM-DD)."""
    _, label, kind = ROUND_FIELDS[key]
    if kind in ("date", "required_date"):
        if value in (None, "") and kind == "date":
            return None
        return value if isinstance(value, date) else parse_date(value or "", key, label)
    value = (value or "").strip() if kind == "required" else (value or "").replace("\r\n", "\n").strip()
    if kind == "required" and not value:
        raise InvalidInput(f"「{label}」不能为空", {key: f"「{label}」不能为空"})
    return value


def _check_name_free(session: Session, name: str, round_id: int | None = None) -> None:
    query = select(Round.id).where(Round.name == name)
    if round_id is not None:
        query = query.where(Round.id != round_id)
    if session.execute(query).first():
        raise InvalidInput(f"轮次「{name}」已存在", {"name": "已存在同名轮次"})


def add_round(engine, name: str, group: str, body: str, feedback_date: date, inspection_start: date | None = None,
              inspection_end: date | None = None, actor: str | None = None, **report_text) -> dict:
    """A new round; `report_text` may give the report fields (report_practices, report_next_steps,
    report_contact, report_issuer, report_date)."""
    errors = {f: f"「{label}」不能为空" for f, label, v in (("name", "轮次名称", name), ("group", "巡察组", group),
                                                       ("body", "被巡察单位", body)) if not (v or "").strip()}
    if errors:
        raise InvalidInput("巡察轮次信息不完整", errors)
    unknown = set(report_text) - set(REPORT_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown round fields: {sorted(unknown)}")
    with engine.db.transaction() as session:
        _check_name_free(session, name.strip())
        round_ = Round(name=name.strip(), inspection_group=group.strip(), inspected_body=body.strip(),
                       feedback_date=feedback_date, inspection_start=inspection_start,
                       inspection_end=inspection_end, created_at=CLOCK.now(),
                       report_practices="", report_next_steps="", report_contact="", report_issuer="")
        for key, value in report_text.items():
            setattr(round_, ROUND_FIELDS[key][0], _round_value(key, value))
        session.add(round_)
        session.flush()
        audit.append(session, "round.add", "round", round_.id, actor, name=round_.name)
        return round_view(round_)


def update_round(engine, round_ref: str | int, changes: dict, actor: str | None = None) -> dict:
    """Edit a round: `changes` maps round_view keys (name, group, body, feedback_date, inspection_start,
    inspection_end and the report_* fields) to new values; keys left out stay as they are."""
    unknown = set(changes) - set(ROUND_FIELDS)
    if unknown:
        raise InvalidInput(f"无法修改的轮次字段：{'、'.join(sorted(unknown))}", {k: "未知字段" for k in unknown})
    values = {key: _round_value(key, value) for key, value in changes.items()}
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        if "name" in values:
            _check_name_free(session, values["name"], round_.id)
        changed = [key for key, value in values.items() if getattr(round_, ROUND_FIELDS[key][0]) != value]
        for key in changed:
            setattr(round_, ROUND_FIELDS[key][0], values[key])
        if changed:
            session.flush()
            audit.append(session, "round.update", "round", round_.id, actor, name=round_.name, changed=changed)
        return round_view(round_)


def update_round_report_text(engine, round_ref: str | int, actor: str | None = None, **text) -> dict:
    """整改办 edits the free text of the progress report: report_practices (整改主要做法),
    report_next_steps (下一步工作打算), report_contact, report_issuer, report_date."""
    unknown = set(text) - set(REPORT_TEXT_FIELDS)
    if unknown:
        raise InvalidInput(f"不是报告文字字段：{'、'.join(sorted(unknown))}", {k: "未知字段" for k in unknown})
    return update_round(engine, round_ref, text, actor)


def round_view(round_: Round) -> dict:
    def iso(day):
        return day.isoformat() if day else None

    return {"id": round_.id, "name": round_.name, "group": round_.inspection_group, "body": round_.inspected_body,
            "feedback_date": round_.feedback_date.isoformat(),
            "inspection_start": iso(round_.inspection_start), "inspection_end": iso(round_.inspection_end),
            "report_practices": round_.report_practices or "", "report_next_steps": round_.report_next_steps or "",
            "report_contact": round_.report_contact or "", "report_issuer": round_.report_issuer or "",
            "report_date": iso(round_.report_date)}


def find_round(session: Session, name_or_id: str | int) -> Round:
    """A round by id (an int) or by name (a string; digits are tried as an id only when no round has
    that name, so a round named "2" is found by its name)."""
    round_ = None
    if not isinstance(name_or_id, int):
        round_ = session.execute(select(Round).where(Round.name == str(name_or_id))).scalar_one_or_none()
    if round_ is None and (isinstance(name_or_id, int) or str(name_or_id).isdigit()):
        round_ = session.get(Round, int(name_or_id))
    if round_ is None:
        raise NotFound(f"找不到巡察轮次「{name_or_id}」")
    return round_


def get_round(engine, round_ref: str | int) -> dict:
    with engine.db.reading() as session:
        return round_view(find_round(session, round_ref))


def list_rounds(engine) -> list[dict]:
    with engine.db.reading() as session:
        return [round_view(r) for r in session.execute(select(Round).order_by(Round.id)).scalars()]


# What showing an item needs, loaded in a handful of queries for a whole list.
ITEM_FACTS = (selectinload(Item.round), selectinload(Item.aspect), selectinload(Item.unit),
              selectinload(Item.person), selectinload(Item.leader))


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


def check_new_item(new: NewItem) -> None:
    errors = {}
    for field, label in (("number", "序号"), ("title", "问题"), ("unit", "责任单位"), ("person", "责任人"),
                         ("leader", "分管领导")):
        if not str(getattr(new, field) or "").strip():
            errors[field] = f"「{label}」不能为空"
    if new.category not in CATEGORIES:
        errors["category"] = f"「整改类别」只能是：{'、'.join(CATEGORIES)}"
    if errors:
        raise InvalidInput("问题信息不完整", errors)


def create_item(engine, session: Session, round_: Round, new: NewItem) -> Item:
    """Create the item (and the unit, people and aspect it names, if new) and start its path, inside
    the caller's transaction."""
    check_new_item(new)
    if session.execute(select(Item.id).where(Item.round_id == round_.id, Item.number == new.number.strip())).first():
        raise InvalidInput(f"序号「{new.number}」在本轮次中已存在", {"number": "序号重复"})
    refs = LedgerRefs(session, round_)
    resolved = refs.resolve(new.unit.strip(), new.person.strip(), new.leader.strip(), (new.aspect or "").strip() or None)
    refs.materialize()
    return insert_item(engine, session, round_, new, resolved)


def insert_item(engine, session: Session, round_: Round, new: NewItem, refs: Resolved) -> Item:
    """The item row for `new`, whose unit, people and aspect exist (materialized), and its started path."""
    unit, person, leader = refs.unit.row, refs.person.row, refs.leader.row
    aspect = refs.aspect.row if refs.aspect else None
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
        query = select(Item).options(*ITEM_FACTS).order_by(Item.round_id, Item.id)
        if round_name:
            query = query.where(Item.round_id == find_round(session, round_name).id)
        if viewer_id is not None:
            viewer = person_with_roles(session, viewer_id)
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
            select(InboxTask).options(selectinload(InboxTask.assignee)).where(InboxTask.item_id == item_id)
            .order_by(InboxTask.created_at, InboxTask.id)
        ).unique().scalars().all()
        history = session.execute(
            select(TaskRecord).options(selectinload(TaskRecord.user)).where(TaskRecord.item_id == item_id)
            .order_by(TaskRecord.id)
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
    from engine.process.bpmn import form_key_of, step_id
    from engine.process.deploy import all_task_specs, loaded

    spec = loaded(engine, version)
    titles = {}
    for task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
        schema = spec.forms.get(form_key_of(task_spec) or "") or {}
        fields = {name: prop.get("title", name) for name, prop in (schema.get("properties") or {}).items()}
        titles[step_id(task_spec)] = {"decision": "决定", "opinion": "意见", **fields}
    return titles
