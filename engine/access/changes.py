"""The web's side of 变更申请 and 转办: the change form's text turned into a request (each field checked
by engine/ledger/changes.py), and a task handed on from the item page. Who may do what is decided in
engine/access/items.py (may_request_change, may_reassign) and checked again by the engine."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.access.items import checked_item, may_request_change
from engine.errors import Forbidden, InvalidInput
from engine.ledger.changes import request_change
from engine.ledger.items import item_summary
from engine.people.directory import name_and_unit
from engine.work.inbox import open_task
from engine.work.reassign import reassign_task

if TYPE_CHECKING:
    from engine.core import Engine

CHANGE_FIELDS = ("kind", "deadline", "person", "unit", "leader", "category", "merge_into", "reason")
KINDS = {"extend": "延期", "responsibility": "调整责任", "category": "调整类别", "withdraw": "撤销", "merge": "合并"}
KIND_FIELDS = {"extend": ("deadline",), "responsibility": ("deadline", "person", "unit", "leader"),
               "category": ("category",), "withdraw": (), "merge": ("merge_into",)}


def change_form_for(engine: Engine, user_id: int, item_id: int) -> dict:
    """The item as the change form shows it, if the user may ask for a change."""
    with engine.db.reading() as session:
        user, item = checked_item(session, item_id, user_id)
        if not may_request_change(user, item):
            raise Forbidden("只有该问题的责任人、责任单位负责人和整改办可以申请变更（问题须未销号）")
        return item_summary(item)


def request_change_for(engine: Engine, user_id: int, item_id: int, form: dict[str, str]) -> dict:
    """The form's kind decides which of its fields count (a field of another kind, left filled in, is ignored)."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise InvalidInput("请选择变更类型", {"kind": "请选择变更类型"})
    wanted = {f: (form.get(f) or "").strip() or None for f in KIND_FIELDS[kind]}
    if kind == "withdraw":
        wanted["withdraw"] = True
    if kind in ("extend", "category", "merge") and not any(wanted.values()):
        field = KIND_FIELDS[kind][0]
        raise InvalidInput("变更申请未提交，请按提示修改", {field: "请填写要变更的内容"})
    with engine.db.transaction() as session:
        checked_item(session, item_id, user_id)
        return request_change(engine, item_id, user_id, form.get("reason", ""), **wanted)


def reassign_for(engine: Engine, user_id: int, task_id: str, to: str, reason: str) -> dict:
    """转办 from the item page: `to` is a name, or "name（unit）" when namesakes need telling apart."""
    name, unit = name_and_unit(to)
    with engine.db.transaction() as session:
        checked_item(session, open_task(session, task_id).item_id, user_id)
        if not name:
            raise InvalidInput("请填写接收人", {"to": "「接收人」不能为空"})
        return reassign_task(engine, task_id, name, user_id, reason, unit)
