"""督办 (supervision notices): 整改办 — or a leader, for the items they lead (主要领导: any) — sends a
督办单 on one or many open items: a demand and a reply deadline. Each item's 责任人 replies, with text
and evidence, as a task (workflows/supervision.bpmn); a notice unanswered by its deadline goes to the
head of the item's unit to chase, until the reply comes. The notice is written in the item's history;
the replies are its steps; the dashboard counts notices and the upward report lists them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import Forbidden, InvalidInput
from engine.ledger.rounds import date_field
from engine.process.instances import SUPERVISION_PROCESS, add_history_entry, start_instance
from engine.store import audit
from engine.store.models import (
    HEAD,
    LEADER,
    OFFICE,
    STATUS_OPEN,
    Base,
    Item,
    TaskRecord,
    User,
    person_with_roles,
)

if TYPE_CHECKING:
    from engine.core import Engine

REPLIED, WAITING, OVERDUE = "已回复", "待回复", "逾期未回复"
SUPERVISION_TITLES = {"demand": "督办要求", "reply_due": "回复期限"}


class SupervisionNotice(Base):
    __tablename__ = "supervision_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    demand: Mapped[str] = mapped_column(Text)
    reply_due: Mapped[date]
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime]
    instances: Mapped[dict]  # item id (as text) -> the 督办 process instance of that item
    round_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rounds.id"), index=True)


def _check(engine: Engine, demand: str, reply_due, item_ids: list[int]) -> tuple[str, date]:
    errors = {}
    demand = (demand or "").replace("\r\n", "\n").strip()
    if not demand:
        errors["demand"] = "「督办要求」不能为空"
    due = date_field(reply_due, "reply_due", "回复期限", errors)
    if due is not None and due < engine.lights.local_date(engine.clock.now()):
        errors["reply_due"] = "「回复期限」不能早于今天"
    if not item_ids:
        errors["items"] = "请选择督办的问题"
    if errors:
        raise InvalidInput("督办单未发出，请按提示修改", errors)
    return demand, due


def issue_notice(engine: Engine, issuer_id: int, item_ids: list[int], demand: str, reply_due) -> dict:
    """Send a 督办单 on the items; one transaction for all of them."""
    with engine.db.reading() as session:
        issuer = person_with_roles(session, issuer_id)
        if issuer is None or not issuer.active or not issuer.roles & {OFFICE, LEADER, HEAD}:
            raise Forbidden("只有整改办和领导可以发出督办单")
    demand, due = _check(engine, demand, reply_due, item_ids)
    with engine.db.transaction() as session:
        issuer = person_with_roles(session, issuer_id)
        items = list(session.execute(select(Item).where(Item.id.in_(item_ids)).order_by(Item.id)).scalars())
        errors = {f"问题{i}": f"找不到问题 {i}" for i in sorted(set(item_ids) - {i.id for i in items})}
        for item in items:
            if item.status != STATUS_OPEN:
                errors[f"问题{item.id}"] = f"第 {item.number} 号问题{item.status}，不需督办"
            elif not issuer.roles & {OFFICE, HEAD} and item.leader_id != issuer.id:
                errors[f"问题{item.id}"] = f"第 {item.number} 号问题不是您分管的，请由整改办督办"
        if errors:
            raise InvalidInput("督办单未发出", errors)
        now = engine.clock.now()
        escalate_at = datetime.combine(due + timedelta(days=1), time(0), engine.lights.tz).isoformat()
        notice = SupervisionNotice(demand=demand, reply_due=due, issued_by=issuer.id, issued_at=now, instances={},
                                   round_id=items[0].round_id if len({i.round_id for i in items}) == 1 else None)
        session.add(notice)
        session.flush()
        started = {}
        for item in items:
            instance = start_instance(engine, session, item, SUPERVISION_PROCESS,
                                      {"reply_due": due.isoformat(), "escalate_at": escalate_at, "notice": notice.id})
            started[str(item.id)] = instance.id
            add_history_entry(session, instance.id, item.id, "supervision", "督办", "supervision", "issued", issuer.id, now,
                              {"demand": demand, "reply_due": due.isoformat()})
        notice.instances = started
        audit.append(session, "supervision.issue", "supervision", notice.id, issuer.name, items=[i.id for i in items],
                     reply_due=due.isoformat())
        return notice_view(session, notice, engine.lights.local_date(now))


def notice_view(session: Session, notice: SupervisionNotice, today: date) -> dict:
    instance_ids = list(notice.instances.values())
    replies = {iid: data for iid, data in session.execute(
        select(TaskRecord.instance_id, TaskRecord.data).where(
            TaskRecord.instance_id.in_(instance_ids), TaskRecord.bpmn_id == "supervision_reply",
            TaskRecord.outcome == "completed"))} if instance_ids else {}
    items = {i.id: i for i in session.execute(select(Item).where(Item.id.in_([int(k) for k in notice.instances])))
             .scalars()}
    issuer = session.get(User, notice.issued_by)
    rows = []
    for item_id, instance_id in sorted(notice.instances.items(), key=lambda kv: int(kv[0])):
        item, reply = items[int(item_id)], replies.get(instance_id)
        state = REPLIED if reply else (OVERDUE if today > notice.reply_due else WAITING)
        rows.append({"item_id": item.id, "number": item.number, "title": item.title, "state": state,
                     "reply": (reply or {}).get("reply", "")})
    return {"id": notice.id, "demand": notice.demand, "reply_due": notice.reply_due.isoformat(),
            "issued_by": issuer.name if issuer else "", "issued_at": notice.issued_at.isoformat(), "items": rows}


def notices(session: Session, round_id: int | None, today: date) -> list[dict]:
    """Every notice that names an item of the round (all rounds: None), oldest first."""
    query = select(SupervisionNotice).order_by(SupervisionNotice.id)
    if round_id is not None:  # a notice on one round's items carries it; one across rounds does not
        query = query.where(or_(SupervisionNotice.round_id == round_id, SupervisionNotice.round_id.is_(None)))
    found = [notice_view(session, n, today) for n in session.execute(query).scalars()]
    if round_id is None:
        return found
    in_round = set(session.execute(select(Item.id).where(Item.round_id == round_id)).scalars())
    return [n | {"items": [r for r in n["items"] if r["item_id"] in in_round]} for n in found
            if any(r["item_id"] in in_round for r in n["items"])]


def supervision_figures(session: Session, round_id: int | None, today: date) -> dict:
    rows = [r for n in notices(session, round_id, today) for r in n["items"]]
    return {"notices": len(rows), "replied": sum(r["state"] == REPLIED for r in rows),
            "overdue": sum(r["state"] == OVERDUE for r in rows)}


