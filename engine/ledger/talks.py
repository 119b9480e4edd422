"""约谈记录: a reminder talk or 约谈 that 纪检监察 or a leader held — with whom, when, about which items,
and what came of it. Internal: listed on each item's page and in the upward report (整改情况报告),
never in the public one. Recording one is audited; a record is not edited afterwards."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import Forbidden, InvalidInput
from engine.ledger.rounds import date_field
from engine.store import audit
from engine.store.models import DISCIPLINE, HEAD, LEADER, Base, Item, User, person_with_roles

if TYPE_CHECKING:
    from engine.core import Engine

KINDS = ("提醒谈话", "约谈", "诫勉谈话")
RECORDERS = (DISCIPLINE, LEADER, HEAD)


class Talk(Base):
    __tablename__ = "talks"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    held_on: Mapped[date]
    people: Mapped[str] = mapped_column(String(500))  # who was talked to
    outcome: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class TalkItem(Base):
    __tablename__ = "talk_items"
    talk_id: Mapped[int] = mapped_column(ForeignKey("talks.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)


def record_talk(engine: Engine, recorder_id: int, kind: str, held_on, people: str, outcome: str,
                item_ids: list[int]) -> dict:
    """Record a talk about one or more items (纪检监察, 分管领导, 主要领导)."""
    with engine.db.reading() as session:
        recorder = person_with_roles(session, recorder_id)
        if recorder is None or not recorder.active or not recorder.roles & set(RECORDERS):
            raise Forbidden("只有纪检监察和领导可以记录约谈")
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"「类型」应为 {'、'.join(KINDS)} 之一"
    day = date_field(held_on, "held_on", "日期", errors)
    people, outcome = (people or "").strip(), (outcome or "").replace("\r\n", "\n").strip()
    if not people:
        errors["people"] = "「谈话对象」不能为空"
    if not outcome:
        errors["outcome"] = "「谈话情况」不能为空"
    if not item_ids:
        errors["items"] = "请选择涉及的问题"
    if errors:
        raise InvalidInput("约谈记录未保存，请按提示修改", errors)
    with engine.db.transaction() as session:
        recorder = person_with_roles(session, recorder_id)
        if recorder is None or not recorder.active or not recorder.roles & set(RECORDERS):
            raise Forbidden("只有纪检监察和领导可以记录约谈")
        found = set(session.execute(select(Item.id).where(Item.id.in_(item_ids))).scalars())
        missing = sorted(set(item_ids) - found)
        if missing:
            raise InvalidInput("约谈记录未保存", {"items": f"找不到问题 {'、'.join(map(str, missing))}"})
        talk = Talk(kind=kind, held_on=day, people=people[:500], outcome=outcome, recorded_by=recorder.id,
                    recorded_at=engine.clock.now())
        session.add(talk)
        session.flush()
        session.add_all([TalkItem(talk_id=talk.id, item_id=i) for i in sorted(found)])
        audit.append(session, "talk.record", "talk", talk.id, recorder.name, kind=kind, items=sorted(found))
        return talk_view(talk, recorder.name, sorted(found))


def talk_view(t: Talk, recorder: str, item_ids: list[int]) -> dict:
    return {"id": t.id, "kind": t.kind, "held_on": t.held_on.isoformat(), "people": t.people, "outcome": t.outcome,
            "recorded_by": recorder, "recorded_at": t.recorded_at.isoformat(), "item_ids": item_ids}


def talks_about(session: Session, item_ids: list[int]) -> dict[int, list[dict]]:
    """Item id -> the talks about it, oldest first."""
    if not item_ids:
        return {}
    rows = session.execute(select(TalkItem.item_id, Talk, User.name).join(Talk, Talk.id == TalkItem.talk_id)
                           .join(User, User.id == Talk.recorded_by).where(TalkItem.item_id.in_(item_ids))
                           .order_by(Talk.held_on, Talk.id)).all()
    talks: dict[int, list[dict]] = {}
    for item_id, talk, recorder in rows:
        talks.setdefault(item_id, []).append(talk_view(talk, recorder, [item_id]))
    return talks
