"""Who may see what (docs/domain.md, roles): officers and unit heads their own unit's items; leaders, 整改办,
纪检 and admins every item of the body. Load (404) → check (403) → act."""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.closure.records import closure_pending, item_closure_documents
from engine.errors import Forbidden, NotFound
from engine.ledger.detail import item_detail
from engine.ledger.items import (
    ITEM_LOAD_OPTIONS,
    get_item,
    item_summary,
    may_see,
    set_public_accountability,
    visible_items,
)
from engine.ledger.search import matching_items
from engine.ledger.supervision import issue_notice
from engine.ledger.talks import KINDS as TALK_KINDS
from engine.ledger.talks import RECORDERS as TALK_RECORDERS
from engine.ledger.talks import record_talk, talks_about
from engine.ledger.xlsx.export import write_ledger
from engine.process.paths import latest_path
from engine.store.models import (
    ADMIN,
    HEAD,
    LEADER,
    OFFICE,
    STATUS_CLOSED,
    STATUS_OPEN,
    STATUS_WITHDRAWN,
    UNIT_HEAD,
    Aspect,
    EvidenceFile,
    InboxTask,
    Item,
    Round,
    TaskRecord,
    Unit,
    User,
    person_with_roles,
)
from engine.work.inbox import InboxFilter, inbox

if TYPE_CHECKING:
    from engine.core import Engine

NOT_YOURS = "该事项属于其他单位，您无权查看"
# Who may make a new closure record of a closed item they may see, and choose what of its
# accountability is published.
REGENERATORS = (OFFICE, ADMIN)


def viewer(session: Session, user_id: int) -> User:
    user = person_with_roles(session, user_id)
    if user is None or not user.active:
        raise Forbidden("请先登录")
    return user


def require_role(session: Session, user_id: int, *roles: str) -> User:
    """The signed-in user, if they hold one of `roles` (else 403 naming the roles)."""
    user = viewer(session, user_id)
    if not user.roles & set(roles):
        raise Forbidden(f"需要以下角色之一：{'、'.join(roles)}")
    return user


def check_item(user: User, item: Item) -> None:
    if not may_see(user, item):
        raise Forbidden(NOT_YOURS)


def checked_item(session: Session, item_id: int, user_id: int) -> tuple[User, Item]:
    """Load (404) and check (403): the signed-in user and an item they may see."""
    user, item = viewer(session, user_id), get_item(session, item_id)
    check_item(user, item)
    return user, item


def record_talk_for(engine: Engine, user_id: int, item_id: int, values: dict[str, str]) -> dict:
    """约谈 about this item, by 纪检监察 or a leader who may see it (the engine checks the role)."""
    with engine.db.transaction() as session:
        checked_item(session, item_id, user_id)
        return record_talk(engine, user_id, values.get("kind", ""), values.get("held_on", ""), values.get("people", ""),
                           values.get("outcome", ""), [item_id])


def supervise_for(engine: Engine, user_id: int, item_id: int, values: dict[str, str]) -> dict:
    """A 督办单 on this item (整改办, 主要领导, or the item's 分管领导; the engine checks)."""
    with engine.db.transaction() as session:
        checked_item(session, item_id, user_id)
        return issue_notice(engine, user_id, [item_id], values.get("demand", ""), values.get("reply_due", ""))


def may_request_change(user: User, item: Item) -> bool:
    """申请变更: the item's person, its unit's head and 整改办, while the item is open."""
    return item.status == STATUS_OPEN and (user.id == item.person_id or OFFICE in user.roles
                                           or (UNIT_HEAD in user.roles and user.unit_id == item.unit_id))


def may_reassign(user: User, item: Item) -> bool:
    """转办: the head of the item's unit and 整改办."""
    return OFFICE in user.roles or (UNIT_HEAD in user.roles and user.unit_id == item.unit_id)


def item_page_for(engine: Engine, item_id: int, user_id: int) -> dict:
    """The item page, in one session: the item (access checked) with its tasks, history, signatures
    and evidence, its closure records newest first, whether a record is still being made after
    closing, and whether the user may make a new one (整改办 and 管理员, once the item is closed)."""
    with engine.db.reading() as session:
        user, item = checked_item(session, item_id, user_id)
        page = item_detail(engine, item_id)
        documents = item_closure_documents(engine, item_id)
        return page | {
            "closure_documents": documents,
            "closure_pending": item.status == STATUS_CLOSED and not documents and closure_pending(session, item_id),
            "may_generate_closure": bool(user.roles & set(REGENERATORS)) and item.status == STATUS_CLOSED,
            "may_set_accountability": bool(user.roles & set(REGENERATORS)),
            "may_request_change": may_request_change(user, item),
            "may_edit": bool(user.roles & set(REGENERATORS)) and item.status != STATUS_WITHDRAWN,
            # 约谈 records are internal: for those who see every unit, not for the item's colleagues
            "talks": talks_about(session, [item_id]).get(item_id, []) if user.sees_all_units else [],
            "may_record_talk": bool(user.roles & set(TALK_RECORDERS)), "talk_kinds": TALK_KINDS,
            "may_supervise": item.status == STATUS_OPEN and bool(
                user.roles & {OFFICE, HEAD} or (LEADER in user.roles and item.leader_id == user.id)),
            "may_reassign": may_reassign(user, item),
        }


def evidence_for(engine: Engine, item_id: int, sha256: str, user_id: int) -> tuple[str, bytes]:
    """(file name, content) of an evidence file of an item the user may see."""
    with engine.db.reading() as session:
        checked_item(session, item_id, user_id)
        row = session.execute(select(EvidenceFile).where(
            EvidenceFile.item_id == item_id, EvidenceFile.sha256 == sha256)).scalars().first()
        if row is None:
            raise NotFound("文件不存在")
        return row.name, engine.evidence.read(sha256)


def evidence_thumbnail_for(engine: Engine, item_id: int, sha256: str, user_id: int) -> tuple[bytes, str]:
    """(bytes, MIME type) of a small picture of an evidence photo the user may see (engine/work/thumbnails.py)."""
    from engine.work.thumbnails import is_picture_name, thumbnail

    name, content = evidence_for(engine, item_id, sha256, user_id)
    if not is_picture_name(name):
        raise NotFound("该文件不是图片")
    return thumbnail(content)


def diagram_for(engine: Engine, item_id: int, user_id: int) -> dict:
    """The BPMN of the item's process version with the finished and current steps."""
    with engine.db.reading() as session:
        checked_item(session, item_id, user_id)
        instance = latest_path(session, item_id)
        if instance is None:
            raise NotFound("该事项没有流程")
        done = set(session.execute(select(TaskRecord.bpmn_id).where(
            TaskRecord.item_id == item_id, TaskRecord.outcome == "completed")).scalars())
        current = set(session.execute(select(InboxTask.bpmn_id).where(InboxTask.item_id == item_id)).scalars())
        return {"xml": instance.version.bpmn_xml, "done": sorted(done - current), "current": sorted(current)}


PAGE_SIZE = 50


@dataclass
class ItemFilter:
    round_id: int | None = None
    aspect_id: int | None = None
    category: str | None = None
    unit_id: int | None = None
    light: str | None = None
    status: str | None = None
    search: str | None = None
    overdue: bool = False  # open and past its deadline (the dashboard's 超期问题)
    page: int = 1


def _filtered(engine: Engine, user: User, filters: ItemFilter):
    """The ids of the items `user` may see that match `filters` (unordered): one rule for the list and its export."""
    query = select(Item.id).where(visible_items(user))
    for column, value in ((Item.round_id, filters.round_id), (Item.aspect_id, filters.aspect_id),
                          (Item.category, filters.category), (Item.unit_id, filters.unit_id),
                          (Item.light, filters.light), (Item.status, filters.status)):
        if value:
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(Item.status == STATUS_OPEN, Item.deadline < engine.lights.local_date(engine.clock.now()))
    text = (filters.search or "").strip()
    if text:
        query = query.where(matching_items(text, postgres=not engine.db.is_sqlite))
    return query


LIST_ORDER = (Item.round_id, Item.aspect_id, Item.id)


def items_for(engine: Engine, user_id: int, filters: ItemFilter, page_size: int = PAGE_SIZE) -> dict:
    """One page of the items the user may see, filtered and searched in SQL (问题, 描述, 序号, 责任单位,
    责任人), in ledger order, with the total: {"items", "total", "page", "pages", "page_size"}."""
    with engine.db.reading() as session:
        query = _filtered(engine, viewer(session, user_id), filters)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        pages = max(1, -(-total // page_size))
        number = min(max(1, filters.page), pages)
        ids = session.execute(query.order_by(*LIST_ORDER).limit(page_size)
                              .offset((number - 1) * page_size)).scalars().all()
        rows = session.execute(select(Item).options(*ITEM_LOAD_OPTIONS).where(Item.id.in_(ids))
                               .order_by(*LIST_ORDER)).unique().scalars()
        return {"items": [item_summary(i) | {"round_id": i.round_id} for i in rows], "total": total, "page": number,
                "pages": pages, "page_size": page_size}


def export_items_for(engine: Engine, user_id: int, filters: ItemFilter) -> tuple[str, IO[bytes]]:
    """(file name, the .xlsx in a temporary file at its start) of every item the list's `filters` match
    that the user may see — not one page: the web streams the file, so 20,000 rows never sit in memory
    as bytes. The caller closes the file (which deletes it)."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        today = engine.lights.local_date(engine.clock.now())
        name = f"问题台账-{_filter_words(session, user, filters)}-{today:%Y%m%d}.xlsx"
        file = tempfile.TemporaryFile(suffix=".xlsx")
        try:
            write_ledger(engine, _filtered(engine, user, filters).order_by(*LIST_ORDER), file, with_round=True)
        except BaseException:
            file.close()
            raise
    file.seek(0)
    return name, file


def _filter_words(session: Session, user: User, filters: ItemFilter) -> str:
    """What the export holds, for its file name: 全部, or the filters' values (第二轮-财务科-红…); a unit
    the user may not see is not named (its rows are not in the file either)."""
    unit_id = filters.unit_id if user.sees_all_units or filters.unit_id == user.unit_id else None
    round_, unit, aspect = (session.get(model, key) if key else None for model, key in (
        (Round, filters.round_id), (Unit, unit_id), (Aspect, filters.aspect_id)))
    words = [round_.name if round_ else "", unit.name if unit else "", aspect.title[:20] if aspect else "",
             filters.category or "", filters.light or "", filters.status or "", "超期" if filters.overdue else "",
             (filters.search or "").strip()[:20]]
    text = "-".join(w for w in words if w)
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text) or "全部"


def filter_choices(engine: Engine, user_id: int) -> dict:
    """Rounds, aspects and units to offer in the item filters."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        units = select(Unit).order_by(Unit.name)
        units = session.execute(units if user.sees_all_units else units.where(Unit.id == user.unit_id)).scalars().all()
        return {
            "rounds": round_choices(session),
            "aspects": [{"id": a.id, "round_id": a.round_id, "title": a.title}
                        for a in session.execute(select(Aspect).order_by(Aspect.round_id, Aspect.position)).scalars()],
            "units": [{"id": u.id, "name": u.name} for u in units],
        }


def round_choices(session: Session) -> list[dict]:
    return [{"id": r_id, "name": name} for r_id, name in session.execute(select(Round.id, Round.name).order_by(Round.id))]


def items_page_for(engine: Engine, user_id: int, filters: ItemFilter) -> dict:
    """整改台账: one page of the items the user may see, with the choices for the filters — one session."""
    with engine.db.reading() as session:
        may_add = bool(viewer(session, user_id).roles & set(REGENERATORS))
        return {"result": items_for(engine, user_id, filters), "choices": filter_choices(engine, user_id),
                "may_add": may_add}


def inbox_page_for(engine: Engine, user_id: int, filters: InboxFilter) -> dict:
    """我的待办: one page of the user's open tasks, with the choices for the filters — one session."""
    with engine.db.reading() as session:  # the inbox filters by round only: no list of units and aspects
        return {"result": inbox(engine, user_id, filters), "choices": {"rounds": round_choices(session)}}


def set_public_accountability_for(engine: Engine, item_id: int, user_id: int, text: str) -> dict:
    """整改办 (or 管理员) sets the accountability sentence an item's public report may carry."""
    with engine.db.transaction() as session:
        user = require_role(session, user_id, *REGENERATORS)
        check_item(user, get_item(session, item_id))
        return set_public_accountability(engine, item_id, text, user.name)
