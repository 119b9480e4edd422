"""整改工作记录: the round's own work that 整改办 records — meetings of the Party group (党组会), special
meetings (专题会), the 专题民主生活会, supervision visits (督查), consultations (征求意见) and the rules
made or revised (建章立制) — and the figures the reports draw from it ("召开党组会专题研究 2 次…").

Activities are facts, not steps of a path: adding one is audited; removing one (a mistaken entry) is
audited too and leaves the row's record in the audit log."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidInput, NotFound
from engine.ledger.rounds import date_field, find_round
from engine.store import audit
from engine.store.models import Base

if TYPE_CHECKING:
    from engine.core import Engine

# kind -> how the reports count it (the number goes in the middle)
ACTIVITY_KINDS = {
    "党组会": ("召开党组（党委）会议专题研究", "次"),
    "专题会": ("召开整改工作专题会议", "次"),
    "民主生活会": ("召开巡察整改专题民主生活会", "次"),
    "督查": ("开展督查督办", "次"),
    "征求意见": ("开展征求意见", "次"),
    "制定制度": ("新建制度", "项"),
    "修订制度": ("修订完善制度", "项"),
}
RULE_KINDS = ("制定制度", "修订制度")
MAX_TOPIC = 500


class RoundActivity(Base):
    """One piece of the round's own work (整改工作记录)."""

    __tablename__ = "round_activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date]
    topic: Mapped[str] = mapped_column(String(MAX_TOPIC))
    doc_number: Mapped[str] = mapped_column(String(100), default="")  # 文号, for rules
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime]


def activity_view(a: RoundActivity) -> dict:
    return {"id": a.id, "round_id": a.round_id, "kind": a.kind, "held_on": a.held_on.isoformat(), "topic": a.topic,
            "doc_number": a.doc_number or "", "note": a.note or "", "recorded_by": a.recorded_by,
            "recorded_at": a.recorded_at.isoformat()}


def _checked(kind: str, held_on, topic: str, doc_number: str) -> tuple[str, date, str, str]:
    errors = {}
    kind = (kind or "").strip()
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = f"「类型」应为 {'、'.join(ACTIVITY_KINDS)} 之一"
    day = date_field(held_on, "held_on", "日期", errors)
    topic = (topic or "").strip()
    if not topic:
        errors["topic"] = "「议题或名称」不能为空"
    elif len(topic) > MAX_TOPIC:
        errors["topic"] = f"「议题或名称」不能超过 {MAX_TOPIC} 字"
    doc_number = (doc_number or "").strip()
    if len(doc_number) > 100:
        errors["doc_number"] = "「文号」不能超过 100 字"
    if errors:
        raise InvalidInput("整改工作记录有误", errors)
    return kind, day, topic, doc_number


def add_activity(engine: Engine, round_ref: str | int, kind: str, held_on, topic: str, doc_number: str = "",
                 note: str = "", actor: str | None = None) -> dict:
    """Record one activity of the round (整改办)."""
    kind, day, topic, doc_number = _checked(kind, held_on, topic, doc_number)
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        activity = RoundActivity(round_id=round_.id, kind=kind, held_on=day, topic=topic, doc_number=doc_number,
                                 note=(note or "").replace("\r\n", "\n").strip(), recorded_by=actor or "",
                                 recorded_at=engine.clock.now())
        session.add(activity)
        session.flush()
        audit.append(session, "round.activity.add", "round", round_.id, actor, activity=activity_view(activity))
        return activity_view(activity)


def remove_activity(engine: Engine, round_ref: str | int, activity_id: int, actor: str | None = None) -> dict:
    """Remove a mistaken entry; the audit log keeps what it said."""
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        activity = session.get(RoundActivity, activity_id)
        if activity is None or activity.round_id != round_.id:
            raise NotFound(f"轮次「{round_.name}」没有编号为 {activity_id} 的整改工作记录")
        view = activity_view(activity)
        session.delete(activity)
        audit.append(session, "round.activity.remove", "round", round_.id, actor, activity=view)
        return view


def round_activities(session: Session, round_id: int) -> list[dict]:
    rows = session.execute(select(RoundActivity).where(RoundActivity.round_id == round_id)
                           .order_by(RoundActivity.held_on, RoundActivity.id)).scalars()
    return [activity_view(a) for a in rows]


def list_activities(engine: Engine, round_ref: str | int) -> list[dict]:
    with engine.db.reading() as session:
        return round_activities(session, find_round(session, round_ref).id)


def activity_figures(activities: list[dict]) -> str:
    """整改期间，召开党组（党委）会议专题研究2次，…。 ("" when nothing is recorded)."""
    counts = Counter(a["kind"] for a in activities)
    parts = [f"{phrase}{counts[kind]}{unit}" for kind, (phrase, unit) in ACTIVITY_KINDS.items() if counts[kind]]
    return ("整改期间，" + "，".join(parts) + "。") if parts else ""
