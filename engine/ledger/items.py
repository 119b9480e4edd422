"""Items of the problem ledger (问题台账): create one (starting its path), list, summarise, find."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Callable

from sqlalchemy import insert, select, true
from sqlalchemy.orm import Session, selectinload

from engine.clock import CLOCK
from engine.errors import InvalidInput, NotFound
from engine.ledger import indexes as _indexes  # noqa: F401  (declares migration 0023's indexes on the model)
from engine.ledger.lights import LIGHT_TEXT
from engine.ledger.refs import LedgerRefs, Resolved
from engine.ledger.rounds import find_round
from engine.process.bulk_start import start_paths
from engine.process.instances import honours_third_party, start_instance
from engine.store import audit
from engine.store.models import CATEGORIES, STATUS_OPEN, Item, Round, User, person_with_roles

if TYPE_CHECKING:
    from engine.core import Engine


# Loader options: what item_summary reads, loaded in a handful of queries for a whole list.
ITEM_LOAD_OPTIONS = (selectinload(Item.round), selectinload(Item.aspect), selectinload(Item.unit),
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


def create_item(engine: Engine, session: Session, round_: Round, new: NewItem) -> Item:
    """Create the item (and the unit, people and aspect it names, if new) and start its path, inside
    the caller's transaction."""
    check_new_item(new)
    if new.third_party and not honours_third_party(session, new.category):
        raise InvalidInput("该类别的整改流程没有第三方评估环节",
                           {"third_party": f"「{new.category}」的流程不含第三方评估，不能要求第三方评估"})
    if session.execute(select(Item.id).where(Item.round_id == round_.id, Item.number == new.number.strip())).first():
        raise InvalidInput(f"序号「{new.number}」在本轮次中已存在", {"number": "序号重复"})
    refs = LedgerRefs(session, round_)
    resolved = refs.resolve(new.unit.strip(), new.person.strip(), new.leader.strip(), (new.aspect or "").strip() or None)
    refs.materialize()
    return insert_item(engine, session, round_, new, resolved)


def _values(engine: Engine, round_: Round, new: NewItem, refs: Resolved, now) -> dict:
    return dict(
        round_id=round_.id, aspect_id=refs.aspect.row.id if refs.aspect else None, number=new.number.strip(),
        title=new.title.strip(), description=new.description or "", category=new.category, unit_id=refs.unit.row.id,
        person_id=refs.person.row.id, leader_id=refs.leader.row.id, deadline=new.deadline, standard=new.standard or "",
        needs_third_party=new.third_party, publish=new.publish, status=STATUS_OPEN,
        light=engine.lights.for_round(round_).light(new.deadline, STATUS_OPEN, now), created_at=now,
    )


def insert_item(engine: Engine, session: Session, round_: Round, new: NewItem, refs: Resolved) -> Item:
    """The item row for `new`, whose unit, people and aspect exist (materialized), and its started path."""
    item = Item(**_values(engine, round_, new, refs, CLOCK.now()))
    item.round, item.unit, item.person, item.leader = round_, refs.unit.row, refs.person.row, refs.leader.row
    item.aspect = refs.aspect.row if refs.aspect else None
    session.add(item)
    session.flush()
    start_instance(engine, session, item)
    return item


BATCH = 250


def insert_items(engine: Engine, session: Session, round_: Round, rows: list[tuple[NewItem, Resolved]],
                 started: Callable[[int], None] | None = None) -> list[Item]:
    """Many items (the ledger import): one insert for a batch of rows, then their paths started together.
    Batches of BATCH keep the workflows held in memory at once bounded."""
    now, items = CLOCK.now(), []
    for offset in range(0, len(rows), BATCH):
        batch = list(session.scalars(insert(Item).returning(Item, sort_by_parameter_order=True),
                                     [_values(engine, round_, new, refs, now) for new, refs in rows[offset:offset + BATCH]]))
        start_paths(engine, session, batch, (lambda n, offset=offset: started(offset + n)) if started else None)
        items += batch
    return items


def add_item(engine: Engine, round_name: str, new: NewItem, actor: str | None = None) -> dict:
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
        "public_accountability": item.public_accountability or "",
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
    }


def may_see(user: User, item: Item) -> bool:
    """Who sees an item (docs/domain.md, roles): its own unit's people; body-wide roles every item."""
    return user.sees_all_units or item.unit_id == user.unit_id


def visible_items(user: User):
    """The same rule as a WHERE clause on items."""
    return true() if user.sees_all_units else Item.unit_id == user.unit_id


def list_items(engine: Engine, round_name: str | None = None, viewer_id: int | None = None) -> list[dict]:
    with engine.db.reading() as session:
        query = select(Item).options(*ITEM_LOAD_OPTIONS).order_by(Item.round_id, Item.id)
        if round_name:
            query = query.where(Item.round_id == find_round(session, round_name).id)
        if viewer_id is not None:
            viewer = person_with_roles(session, viewer_id)
            if viewer is None:
                raise NotFound("用户不存在")
            query = query.where(visible_items(viewer))
        return [item_summary(i) for i in session.execute(query).unique().scalars()]


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"事项 {item_id} 不存在")
    return item


MAX_PUBLIC_ACCOUNTABILITY = 500


def set_public_accountability(engine: Engine, item_id: int, text: str, actor: str | None = None) -> dict:
    """整改办's choice to publish a sentence about accountability taken on this item (empty: publish
    nothing, the default). Accountability steps' own records are never published (docs/domain.md)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_PUBLIC_ACCOUNTABILITY:
        raise InvalidInput("公开的问责情况过长", {"text": f"最多 {MAX_PUBLIC_ACCOUNTABILITY} 字（现为 {len(text)} 字）"})
    with engine.db.transaction() as session:
        item = get_item(session, item_id)
        if item.public_accountability != text:
            item.public_accountability = text
            audit.append(session, "item.public_accountability", "item", item.id, actor, text=text)
        return item_summary(item) | {"public_accountability": text}
