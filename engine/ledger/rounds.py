"""巡察轮次 (rounds): create, edit, find and show a round and the free text of its progress report."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import CLOCK, add_months
from engine.errors import InvalidInput, NotFound
from engine.ledger.lights import Thresholds
from engine.ledger.relight import relight_items
from engine.process.paths import move_deadline
from engine.store import audit
from engine.store.models import STATUS_OPEN, Item, Round

if TYPE_CHECKING:
    from engine.core import Engine


def parse_date(value: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"「{label}」不是有效日期", {field: f"「{label}」应为 YYYY-MM-DD 格式的日期：{value}"}) from None


def date_field(value, field: str, label: str, errors: dict[str, str]) -> date | None:
    """A form's date (a date, or YYYY-MM-DD text); a bad one is named in `errors` (None returned), so a
    form can report every wrong field at once."""
    if isinstance(value, date):
        return value
    try:
        return parse_date(value or "", field, label)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
        return None


ROUND_FIELDS = {  # round_view key -> (model attribute, label, kind)
    "name": ("name", "轮次名称", "required"), "group": ("inspection_group", "巡察组", "required"),
    "body": ("inspected_body", "被巡察单位", "required"), "feedback_date": ("feedback_date", "反馈日期", "required_date"),
    "inspection_start": ("inspection_start", "巡察开始日期", "date"),
    "inspection_end": ("inspection_end", "巡察结束日期", "date"),
    "report_practices": ("report_practices", "整改主要做法", "text"),
    "report_next_steps": ("report_next_steps", "下一步工作打算", "text"),
    "report_contact": ("report_contact", "联系方式", "text"), "report_issuer": ("report_issuer", "发布单位", "text"),
    "report_date": ("report_date", "发布日期", "date"),
    "deploying_authority": ("deploying_authority", "部署机关", "text"),
    "feedback_recipient": ("feedback_recipient", "反馈对象（党组织）", "text"),
    "close_target": ("close_target", "销号率目标（%）", "percent"),
    "upward_due": ("upward_due", "整改情况报告报送时限", "date"),
    "upward_sent_on": ("upward_sent_on", "整改情况报告报送日期", "date"),
    "upward_recipient": ("upward_recipient", "整改情况报告主送机关", "text"),
    "upward_plan": ("upward_plan", "整改方案总体情况", "text"),
    "blue_days": ("blue_days", "蓝灯：到期前天数", "days"),
    "yellow_days": ("yellow_days", "黄灯：超期天数", "days"),
    "red_days": ("red_days", "红灯（问责）：超期天数", "days"),
}
THRESHOLD_FIELDS = ("blue_days", "yellow_days", "red_days")
MAX_THRESHOLD_DAYS = 365
REPORT_TEXT_FIELDS = ("report_practices", "report_next_steps", "report_contact", "report_issuer", "report_date",
                      "deploying_authority", "feedback_recipient", "close_target", "upward_due", "upward_sent_on",
                      "upward_recipient", "upward_plan")


def _round_value(key: str, value):
    """A round field's value checked and normalised (dates may be given as YYYY-MM-DD)."""
    _, label, kind = ROUND_FIELDS[key]
    if kind == "percent":
        text = str(value if value is not None else "").strip().rstrip("%％")
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise InvalidInput(f"「{label}」应为 1–100 的整数", {key: f"「{label}」应为 1–100 的整数：{value}"})
        return int(text)
    if kind == "days":
        text = str(value if value is not None else "").strip()
        if not text.isdigit() or int(text) > MAX_THRESHOLD_DAYS:
            message = f"「{label}」应为 0–{MAX_THRESHOLD_DAYS} 的整数"
            raise InvalidInput(message, {key: f"{message}：{value}"})
        return int(text)
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


def add_round(engine: Engine, name: str, group: str, body: str, feedback_date: date, inspection_start: date | None = None,
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
                       report_practices="", report_next_steps="", report_contact="", report_issuer="",
                       deploying_authority="", feedback_recipient="", close_target=95, upward_recipient="",
                       upward_plan="")
        for key, value in report_text.items():
            setattr(round_, ROUND_FIELDS[key][0], _round_value(key, value))
        session.add(round_)
        session.flush()
        audit.append(session, "round.add", "round", round_.id, actor, name=round_.name)
        return round_view(round_)


def update_round(engine: Engine, round_ref: str | int, changes: dict, actor: str | None = None) -> dict:
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
        before = Thresholds.of(round_)
        for key in changed:
            setattr(round_, ROUND_FIELDS[key][0], values[key])
        if changed:
            session.flush()
            audit.append(session, "round.update", "round", round_.id, actor, name=round_.name, changed=changed,
                         **({"thresholds": [before.__dict__, Thresholds.of(round_).__dict__]}
                            if before != Thresholds.of(round_) else {}))
            if before != Thresholds.of(round_):
                _apply_thresholds(engine, session, round_, before)
        return round_view(round_)


def _check_thresholds(round_: Round) -> None:
    if round_.red_days < 1:
        raise InvalidInput("红灯的超期天数至少为 1", {"red_days": "红灯的超期天数至少为 1"})
    if round_.yellow_days >= round_.red_days:
        message = f"黄灯的超期天数（{round_.yellow_days}）应小于红灯的（{round_.red_days}）"
        raise InvalidInput(message, {"yellow_days": message})


def _apply_thresholds(engine: Engine, session: Session, round_: Round, before: Thresholds) -> None:
    """The round's new thresholds take effect at once: its open items' lights follow, and when the 红
    point moved, so do their waiting 问责 timers (escalation_at)."""
    _check_thresholds(round_)
    if round_.red_days != before.red_days:
        items = session.execute(select(Item).where(Item.round_id == round_.id, Item.status == STATUS_OPEN)
                                .order_by(Item.id)).scalars().all()
        for item in items:
            move_deadline(engine, session, item)
        session.flush()
    relight_items(engine, session, engine.clock.now(), round_.id)


def update_round_report_text(engine: Engine, round_ref: str | int, actor: str | None = None, **text) -> dict:
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
            "report_date": iso(round_.report_date),
            "deploying_authority": round_.deploying_authority or "", "feedback_recipient": round_.feedback_recipient or "",
            "close_target": round_.close_target if round_.close_target is not None else 95,
            "upward_due": iso(round_.upward_due), "upward_due_effective": upward_due(round_).isoformat(),
            "upward_sent_on": iso(round_.upward_sent_on), "upward_recipient": round_.upward_recipient or "",
            "upward_plan": round_.upward_plan or "", "issuer": issuer_of(round_),
            "blue_days": round_.blue_days, "yellow_days": round_.yellow_days, "red_days": round_.red_days}


def upward_due(round_: Round) -> date:
    """When the 整改情况报告 is due: the round's own date, else two months after feedback."""
    return round_.upward_due or add_months(round_.feedback_date, 2)


def issuer_of(round_: Round) -> str:
    """Who issues the round's documents: the 发布单位 given, else the Party organisation fed back to, else the body."""
    return round_.report_issuer or round_.feedback_recipient or round_.inspected_body


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


def get_round(engine: Engine, round_ref: str | int) -> dict:
    with engine.db.reading() as session:
        return round_view(find_round(session, round_ref))


def list_rounds(engine: Engine) -> list[dict]:
    with engine.db.reading() as session:
        return [round_view(r) for r in session.execute(select(Round).order_by(Round.id)).scalars()]


