"""Editing an item's fields that need no approval (整改办): 问题描述, 完成标准, 方面 and whether it is
published (公开). Deadline, people, unit and category change only through an approved 变更申请
(engine/ledger/changes.py). Each edit is audited with the values before and after."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.ledger.aspects import MAX_TITLE
from engine.ledger.items import get_item, item_summary
from engine.store import audit
from engine.store.models import STATUS_WITHDRAWN, Aspect

if TYPE_CHECKING:
    from engine.core import Engine

EDITABLE = {"description": "问题描述", "standard": "完成标准", "aspect": "方面", "publish": "是否公开"}
MAX_TEXT = 5000


def _clean(changes: dict) -> dict:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"这些字段须经变更申请修改：{'、'.join(sorted(unknown))}", {k: "须经变更申请" for k in unknown})
    clean, errors = {}, {}
    for key, value in changes.items():
        if key == "publish":
            clean[key] = value if isinstance(value, bool) else str(value).strip() in ("1", "是", "true", "on")
            continue
        text = (value or "").replace("\r\n", "\n").strip()
        limit = MAX_TITLE if key == "aspect" else MAX_TEXT
        if len(text) > limit:
            errors[key] = f"「{EDITABLE[key]}」最多 {limit} 字（现为 {len(text)} 字）"
        clean[key] = text
    if errors:
        raise InvalidInput("问题未保存，请按提示修改", errors)
    return clean


def edit_item(engine: Engine, item_id: int, changes: dict, actor: str | None = None) -> dict:
    """Apply `changes` (description, standard, aspect title — a new title adds the aspect last —
    publish); fields left out stay as they are."""
    values = _clean(changes)
    with engine.db.transaction() as session:
        item = get_item(session, item_id)
        if item.status == STATUS_WITHDRAWN:
            raise InvalidInput("该问题已撤销，不能再修改")
        before, after = {}, {}
        for key, value in values.items():
            current = (item.aspect.title if item.aspect else "") if key == "aspect" else getattr(item, key)
            if current == value:
                continue
            before[key], after[key] = current, value
            if key == "aspect":
                item.aspect = _aspect(session, item.round_id, value) if value else None
            else:
                setattr(item, key, value)
        if after:
            session.flush()
            audit.append(session, "item.edit", "item", item.id, actor, number=item.number, before=before, after=after)
        return item_summary(item) | {"description": item.description, "standard": item.standard, "changed": sorted(after)}


def _aspect(session, round_id: int, title: str) -> Aspect:
    aspect = session.execute(select(Aspect).where(Aspect.round_id == round_id, Aspect.title == title)).scalar_one_or_none()
    if aspect is None:
        last = session.execute(select(func.max(Aspect.position)).where(Aspect.round_id == round_id)).scalar() or 0
        aspect = Aspect(round_id=round_id, title=title, position=last + 1)
        session.add(aspect)
        session.flush()
    return aspect
