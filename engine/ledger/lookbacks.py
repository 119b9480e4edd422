"""回头看 for every category: 整改办 picks closed problems of a round — a random sample of a chosen size,
or chosen problems — and each is re-checked by its unit (回头看核查) and signed by its leader
(workflows/lookback.bpmn). A confirmed rebound reopens the problem with the new deadline the check
set, starts its path again (engine/process/instances.py) and raises a 问责处理 task for 纪检监察.

A problem may be picked when it is closed (已销号) and nothing runs for it any more: not a long-term
problem still in its own 回头看 period, not one already being looked back at. The whole pick is one
transaction: every problem is checked first, and a bad one names itself and starts nothing."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidInput, NotFound
from engine.ledger.rounds import find_round
from engine.process.instances import LOOKBACK_PROCESS, start_instance
from engine.store import audit
from engine.store.models import STATUS_CLOSED, Base, InboxTask, Item, ProcessInstance, TaskRecord

if TYPE_CHECKING:
    from engine.core import Engine

RANDOM, CHOSEN = "随机抽取", "指定问题"
CHECKING, CONFIRMED, REBOUNDED = "核查中", "巩固", "反弹"
DEFAULT_DAYS, MAX_DAYS = 30, 365


class LookbackCampaign(Base):
    """One 回头看 that 整改办 started: which problems, how they were picked, by when."""

    __tablename__ = "lookback_campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    due: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    instances: Mapped[dict]  # item id (as text) -> the 回头看 process instance started for it
    started_by: Mapped[Optional[str]] = mapped_column(String(100))
    started_at: Mapped[datetime]


def _busy_items(session: Session, round_id: int) -> set[int]:
    """Items of the round with any process instance still running."""
    return set(session.execute(select(ProcessInstance.item_id).join(Item, Item.id == ProcessInstance.item_id)
                               .where(Item.round_id == round_id, ProcessInstance.completed.is_(False))).scalars())


def eligible_items(session: Session, round_id: int) -> list[Item]:
    """Closed items of the round whose paths have all finished, in ledger order."""
    busy = _busy_items(session, round_id)
    closed = session.execute(select(Item).where(Item.round_id == round_id, Item.status == STATUS_CLOSED)
                             .order_by(Item.id)).scalars()
    return [item for item in closed if item.id not in busy]


def _chosen(session: Session, round_id: int, numbers: list[str], eligible: list[Item]) -> list[Item]:
    by_number = {item.number: item for item in eligible}
    found = {n: status for n, status in session.execute(
        select(Item.number, Item.status).where(Item.round_id == round_id, Item.number.in_(numbers)))}
    errors = {}
    for number in numbers:
        if number not in found:
            errors[f"第{number}号"] = f"本轮次没有第 {number} 号问题"
        elif found[number] != STATUS_CLOSED:
            errors[f"第{number}号"] = f"第 {number} 号问题尚未销号，不能回头看"
        elif number not in by_number:
            errors[f"第{number}号"] = f"第 {number} 号问题的流程仍在进行（观察期或回头看中）"
    if errors:
        raise InvalidInput("所选问题不能开展回头看", errors)
    return [by_number[n] for n in dict.fromkeys(numbers)]


def start_lookback(engine: Engine, round_ref: str | int, *, sample: int | None = None,
                   numbers: list[str] | None = None, days: int = DEFAULT_DAYS, note: str = "",
                   actor: str | None = None, rng: random.Random | None = None) -> dict:
    """Start a 回头看 on `sample` problems drawn at random from those that may be picked, or on the
    problems numbered `numbers`; each check is due `days` days from today."""
    numbers = [str(n).strip() for n in numbers or [] if str(n).strip()]
    if (sample is None) == (not numbers):
        raise InvalidInput("请给出抽查数量或指定的问题序号（二选一）", {"sample": "抽查数量与问题序号只能给一个"})
    if not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput(f"核查期限应为 1–{MAX_DAYS} 天", {"days": f"核查期限应为 1–{MAX_DAYS} 天：{days}"})
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        eligible = eligible_items(session, round_.id)
        if numbers:
            items = _chosen(session, round_.id, numbers, eligible)
        else:
            if not eligible:
                raise InvalidInput("本轮次还没有可回头看的问题（须已销号且流程已办结）")
            if not 1 <= sample <= len(eligible):
                raise InvalidInput("抽查数量超出范围", {"sample": f"可回头看的已销号问题共 {len(eligible)} 个，"
                                                              f"抽查数量应为 1–{len(eligible)}"})
            items = sorted((rng or random.SystemRandom()).sample(eligible, sample), key=lambda i: i.id)
        now = engine.clock.now()
        due = engine.lights.local_date(now) + timedelta(days=int(days))
        campaign = LookbackCampaign(round_id=round_.id, method=CHOSEN if numbers else RANDOM, due=due,
                                    note=(note or "").strip(), instances={}, started_by=actor, started_at=now)
        session.add(campaign)
        session.flush()
        started = {}
        for item in items:
            instance = start_instance(engine, session, item, LOOKBACK_PROCESS,
                                      {"lookback_due": due.isoformat(), "lookback_campaign": campaign.id})
            started[str(item.id)] = instance.id
        campaign.instances = started
        audit.append(session, "lookback.start", "round", round_.id, actor, campaign=campaign.id,
                     method=campaign.method, items=[i.number for i in items], due=due.isoformat())
        return campaign_view(session, campaign)


def outcomes(session: Session, instance_ids: list[int]) -> dict[int, tuple[str, dict]]:
    """Instance id -> (result, the check's data): a check counts once its leader approved it."""
    rows = session.execute(select(TaskRecord.instance_id, TaskRecord.kind, TaskRecord.data)
                           .where(TaskRecord.instance_id.in_(instance_ids), TaskRecord.outcome == "completed",
                                  TaskRecord.kind.in_(("user", "signoff")))
                           .order_by(TaskRecord.id)).all() if instance_ids else []
    results: dict[int, tuple[str, dict]] = {}
    checks: dict[int, dict] = {}
    for instance_id, kind, data in rows:
        data = data or {}
        if kind == "user" and "rebound" in data:
            checks[instance_id] = data
        elif kind == "signoff" and data.get("decision") == "approve" and instance_id in checks:
            check = checks[instance_id]
            results.setdefault(instance_id, (REBOUNDED if check.get("rebound") else CONFIRMED, check))
    return results


def campaign_view(session: Session, campaign: LookbackCampaign) -> dict:
    item_ids = [int(i) for i in campaign.instances]
    items = {i.id: i for i in session.execute(select(Item).where(Item.id.in_(item_ids))).scalars()} if item_ids else {}
    results = outcomes(session, list(campaign.instances.values()))
    steps = dict(session.execute(select(InboxTask.instance_id, InboxTask.name)
                                 .where(InboxTask.instance_id.in_(list(campaign.instances.values()))))
                 .all()) if campaign.instances else {}
    rows = []
    for item_id in sorted(item_ids):
        item, instance_id = items[item_id], campaign.instances[str(item_id)]
        result, check = results.get(instance_id, (CHECKING, {}))
        rows.append({"item_id": item.id, "number": item.number, "title": item.title, "category": item.category,
                     "unit": item.unit.name, "result": result, "step": steps.get(instance_id, ""),
                     "findings": check.get("findings", ""), "new_deadline": check.get("new_deadline") or None,
                     "status": item.status})
    counts = {key: sum(r["result"] == key for r in rows) for key in (CHECKING, CONFIRMED, REBOUNDED)}
    return {"id": campaign.id, "round_id": campaign.round_id, "method": campaign.method, "due": campaign.due.isoformat(),
            "note": campaign.note, "started_by": campaign.started_by, "started_at": campaign.started_at.isoformat(),
            "items": rows, "counts": counts}


def lookback_campaigns(engine: Engine, round_ref: str | int) -> dict:
    """The round's 回头看, newest first, and how many problems may be picked now."""
    with engine.db.reading() as session:
        round_ = find_round(session, round_ref)
        campaigns = session.execute(select(LookbackCampaign).where(LookbackCampaign.round_id == round_.id)
                                    .order_by(LookbackCampaign.id.desc())).scalars()
        return {"round_id": round_.id, "round": round_.name, "eligible": len(eligible_items(session, round_.id)),
                "campaigns": [campaign_view(session, c) for c in campaigns]}


def get_campaign(engine: Engine, campaign_id: int) -> dict:
    with engine.db.reading() as session:
        campaign = session.get(LookbackCampaign, campaign_id)
        if campaign is None:
            raise NotFound(f"找不到编号为 {campaign_id} 的回头看")
        return campaign_view(session, campaign)
