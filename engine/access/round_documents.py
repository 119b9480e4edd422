"""Who may read and write a round's internal documents and records: the 整改情况报告 and the 三张清单
(internal: they name accountability taken and every person's load — 整改办, 管理员, leaders, 纪检监察),
the round's work records (整改工作记录) and its 回头看 (everyone who may see the round reads them;
整改办 and 管理员 record and start them)."""
from __future__ import annotations

import re
from io import BytesIO
from typing import TYPE_CHECKING, BinaryIO

from engine.access.items import require_role, viewer
from engine.access.rounds import EXPORTERS, MANAGERS, permissions
from engine.errors import InvalidInput
from engine.ledger.activities import ACTIVITY_KINDS, activity_figures, add_activity, remove_activity, round_activities
from engine.ledger.lookbacks import DEFAULT_DAYS, lookback_campaigns, start_lookback
from engine.ledger.rounds import find_round, round_view
from engine.ledger.xlsx.lists import export_lists
from engine.reports.document_jobs import (
    SYNC_LIMIT,
    document_file,
    get_document_job,
    problem_count,
    request_upward_pdf,
)
from engine.reports.upward import render_upward_docx, upward_file_name, upward_pdf_file, upward_report

if TYPE_CHECKING:
    from engine.core import Engine

# Each a file object to stream and close: the PDF is laid out a window at a time into a temporary file.
UPWARD_FORMATS = {"pdf": upward_pdf_file, "docx": lambda report: BytesIO(render_upward_docx(report))}


def _today(engine: Engine) -> str:
    return engine.lights.local_date(engine.clock.now()).isoformat()


def upward_report_for(engine: Engine, user_id: int, round_id: int, kind: str) -> tuple[str, BinaryIO]:
    """(file name, file object) of the 整改情况报告 as .pdf or .docx."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
        report = upward_report(engine, round_id)
    return upward_file_name(report, _today(engine), kind), UPWARD_FORMATS[kind](report)


def upward_pdf_for(engine: Engine, user_id: int, round_id: int, sync_limit: int = SYNC_LIMIT) -> dict:
    """The upward PDF as the web answers it: {"file": (name, file object)} for a round of at most
    `sync_limit` problems (laid out now, a few seconds), else {"job": …} — the background job that makes
    it, queued now or one already queued, running or finished and current (engine/reports/document_jobs.py)."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
        report = upward_report(engine, round_id) if problem_count(session, round_id) <= sync_limit else None
    if report is not None:  # laid out after the read: no transaction is held open meanwhile
        return {"file": (upward_file_name(report, _today(engine), "pdf"), upward_pdf_file(report))}
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *EXPORTERS).name
        return {"job": request_upward_pdf(engine, round_id, actor)}


def regenerate_upward_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """A new background job for the upward PDF (after a failure, or to include the latest changes),
    unless one is already queued or running."""
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *EXPORTERS).name
        return request_upward_pdf(engine, round_id, actor, again=True)


def document_job_for(engine: Engine, user_id: int, round_id: int, job_id: int) -> dict:
    """A background job's state and progress, with the round's name, for whoever may read the report."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
        return get_document_job(engine, round_id, job_id) | {"round": round_view(find_round(session, round_id))}


def document_file_for(engine: Engine, user_id: int, round_id: int, job_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) a finished job made."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
    return document_file(engine, round_id, job_id)


def lists_for(engine: Engine, user_id: int, round_id: int) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of the round's 三张清单."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
        name = find_round(session, round_id).name
    return f"{name}-三张清单-{_today(engine)}.xlsx", export_lists(engine, round_id)


def activities_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """The round, its work records, the sentence the reports draw from them, and what the user may do."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        round_ = find_round(session, round_id)
        activities = round_activities(session, round_.id)
        return {"round": round_view(round_), "activities": activities, "figures": activity_figures(activities),
                "kinds": list(ACTIVITY_KINDS), "can": permissions(user)}


def add_activity_for(engine: Engine, user_id: int, round_id: int, values: dict[str, str]) -> dict:
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        return add_activity(engine, round_id, values.get("kind", ""), values.get("held_on", ""),
                            values.get("topic", ""), values.get("doc_number", ""), values.get("note", ""), actor=actor)


def remove_activity_for(engine: Engine, user_id: int, round_id: int, activity_id: int) -> dict:
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        return remove_activity(engine, round_id, activity_id, actor=actor)


def lookbacks_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """The round's 回头看 with each problem's result (everyone who may see the round), and what the user may do."""
    with engine.db.reading() as session:
        can = permissions(viewer(session, user_id))
        round_ = round_view(find_round(session, round_id))
    return lookback_campaigns(engine, round_id) | {"round": round_, "can": can}


def start_lookback_for(engine: Engine, user_id: int, round_id: int, values: dict[str, str]) -> dict:
    """整改办 starts a 回头看 from the form: method 随机抽取 (sample) or 指定问题 (numbers), days, note."""
    errors = {}
    sample = numbers = None
    if values.get("method") == "chosen":
        numbers = [n for n in re.split(r"[,，、\s]+", values.get("numbers", "")) if n]
        if not numbers:
            errors["numbers"] = "请填写要回头看的问题序号"
    elif not values.get("sample", "").strip().isdigit():
        errors["sample"] = "「抽查数量」应为正整数"
    else:
        sample = int(values["sample"])
    days = values.get("days", "").strip() or str(DEFAULT_DAYS)
    if not days.isdigit():
        errors["days"] = "「核查期限」应为天数"
    if errors:
        raise InvalidInput("回头看未开始，请按提示修改", errors)
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        return start_lookback(engine, round_id, sample=sample, numbers=numbers, days=int(days),
                              note=values.get("note", ""), actor=actor)
