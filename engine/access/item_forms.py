"""整改办 adds items one by one (/items/new) and edits the fields that need no approval
(/items/<id>/edit): the forms' text turned into engine calls, for 整改办 and 管理员 only."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.access.items import require_role
from engine.access.rounds import MANAGERS
from engine.errors import InvalidInput
from engine.ledger.item_edits import edit_item
from engine.ledger.items import NewItem, add_item, get_item, item_summary
from engine.ledger.rounds import date_field
from engine.store.models import Aspect, Round

if TYPE_CHECKING:
    from engine.core import Engine

NEW_ITEM_FIELDS = ("round_id", "number", "title", "category", "unit", "person", "leader", "deadline", "aspect",
                   "description", "standard", "third_party", "publish")
EDIT_FIELDS = ("description", "standard", "aspect", "publish")


def new_item_form_for(engine: Engine, user_id: int) -> dict:
    """The rounds to choose from and every round's aspects (for the 方面 suggestions)."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        rounds = [{"id": r.id, "name": r.name} for r in session.execute(select(Round).order_by(Round.id.desc())).scalars()]
        aspects = sorted({a for a in session.execute(select(Aspect.title)).scalars()})
        return {"rounds": rounds, "aspects": aspects}


def create_item_for(engine: Engine, user_id: int, values: dict[str, str]) -> dict:
    errors: dict[str, str] = {}
    deadline = date_field(values.get("deadline", ""), "deadline", "整改时限", errors)
    if not str(values.get("round_id", "")).isdigit():
        errors["round_id"] = "请选择巡察轮次"
    if errors:
        raise InvalidInput("问题未添加，请按提示修改", errors)
    new = NewItem(number=values.get("number", ""), title=values.get("title", ""), category=values.get("category", ""),
                  unit=values.get("unit", ""), person=values.get("person", ""), leader=values.get("leader", ""),
                  deadline=deadline, aspect=values.get("aspect") or None, description=values.get("description", ""),
                  standard=values.get("standard", ""), third_party=values.get("third_party") == "1",
                  publish=values.get("publish") == "1")
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        return add_item(engine, int(values["round_id"]), new, actor=actor)


def edit_form_for(engine: Engine, user_id: int, item_id: int) -> dict:
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        item = get_item(session, item_id)
        aspects = list(session.execute(select(Aspect.title).where(Aspect.round_id == item.round_id)
                                       .order_by(Aspect.position)).scalars())
        return item_summary(item) | {"description": item.description or "", "standard": item.standard or "",
                                     "aspects": aspects}


def edit_item_for(engine: Engine, user_id: int, item_id: int, values: dict[str, str]) -> dict:
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        changes = {key: values.get(key, "") for key in ("description", "standard", "aspect")}
        changes["publish"] = values.get("publish") == "1"
        return edit_item(engine, item_id, changes, actor)
