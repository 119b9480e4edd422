"""整改情况报告: the report a body sends upward (to the 党委 / 巡察机构) within two months of feedback,
and its later updates — internal, so unlike the public report it lists accountability taken.

As plain values in the shape of a formal document (title, 主送, opening, sections of paragraphs,
sub-headings and tables, 落款), rendered to PDF by engine/templates/official_document.html and to
.docx by engine/reports/docx.py, so the office can add its letterhead. Sections:
  一、整改工作总体情况  the round's 整改方案 text, the figures of its recorded work, 主要做法, the work itself
  二、问题整改情况      per aspect, every problem: unit and person, measures taken, status, evidence
                          count, closing date, who signed
  三、建章立制情况      rules made or revised, from the steps that enacted them and the office's records
  四、问责情况          every step in the 纪检监察 lane with what it recorded
  五、督办情况          every 督办单 naming the round's problems and each reply
  六、约谈和提醒谈话    every 约谈 recorded about the round's problems (internal, never in the public report)
  七、尚未完成整改的问题 reasons (the latest 存在问题 reported, else the step it waits for) and dates
  八、经批准的延期和调整 every approved 变更申请: what changed, why, who approved it, when
  九、下一步工作打算
"""
from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import func, select

from engine import render
from engine.clock import CLOCK
from engine.ledger.activities import activity_figures, round_activities
from engine.ledger.changes import APPROVED, ChangeRequest, change_view
from engine.ledger.items import ITEM_LOAD_OPTIONS
from engine.ledger.round_facts import (
    current_step,
    earliest_dues,
    open_steps,
    running_items,
    under_observation,
    work_records,
)
from engine.ledger.rounds import find_round, issuer_of, round_view
from engine.ledger.supervision import notices
from engine.ledger.talks import talks_about
from engine.reports.chunked_pdf import Progress, pdf_bytes, pdf_file, write_chunked_pdf
from engine.reports.progress import (
    aspect_title,
    chinese_date,
    chinese_number,
    done_text,
    inspection_sentence,
    paragraphs,
    split_accountability,
    status_text,
    title_lines,
)
from engine.reports.round_work import rule_rows
from engine.store.models import STATUS_CLOSED, STATUS_OPEN, STATUS_WITHDRAWN, EvidenceFile, Item, Signature, User

if TYPE_CHECKING:
    from engine.core import Engine

ITEM_BATCH = 500  # items loaded at a time
Listed = namedtuple("Listed", "id number title")  # what the later tables need of each item
ACCOUNTABILITY_FIELDS = (("measures", "问责措施"), ("handling", "处理意见"), ("handled_on", "处理日期"))


def _table(caption: str, columns: list[str], rows: list[list[str]], widths: list[int] | None = None) -> dict:
    return {"kind": "table", "caption": caption, "columns": columns, "rows": rows, "widths": widths}


def _paragraph(text: str) -> dict:
    return {"kind": "paragraph", "text": text}


def _signers(session, round_id: int) -> dict[int, str]:
    """Item id -> its approving signatures in order: 李娜（审核）、陈刚（分管领导签字）."""
    rows = session.execute(select(Signature.item_id, Signature.signer_name, Signature.step)
                           .join(Item, Item.id == Signature.item_id)
                           .where(Item.round_id == round_id, Signature.decision == "approve").order_by(Signature.id))
    signed: dict[int, list[str]] = defaultdict(list)
    for item_id, name, step in rows:
        signed[item_id].append(f"{name}（{step}）")
    return {item_id: "、".join(names) for item_id, names in signed.items()}


def _evidence_counts(session, round_id: int) -> dict[int, int]:
    return dict(session.execute(
        select(EvidenceFile.item_id, func.count(func.distinct(EvidenceFile.sha256)))
        .join(Item, Item.id == EvidenceFile.item_id).where(Item.round_id == round_id)
        .group_by(EvidenceFile.item_id)).all())


def _accountability_rows(items: list[Listed], accountability: dict[int, list[dict]], local_date) -> list[list[str]]:
    rows = []
    for item in items:
        for record in accountability.get(item.id, []):
            data = record["data"]
            what = "；".join(f"{label}：{data[key]}" for key, label in ACCOUNTABILITY_FIELDS if data.get(key))
            rows.append([item.number, item.title, record["step"], what or "（未填写）", record["by"],
                         local_date(record["at"]).isoformat()])
    return [[str(n), *row] for n, row in enumerate(rows, start=1)]


def _notice_rows(session, round_id: int, today, local_date) -> list[list[str]]:
    rows = []
    for n, notice in enumerate(notices(session, round_id, today), start=1):
        about = "、".join(f"第{r['number']}号" for r in notice["items"])
        states = "；".join(f"第{r['number']}号{r['state']}" + (f"：{r['reply']}" if r["reply"] else "") for r in notice["items"])
        rows.append([str(n), local_date(datetime.fromisoformat(notice["issued_at"])).isoformat(), notice["demand"], about,
                     notice["reply_due"], states])
    return rows


def _talk_rows(session, items: list[Listed]) -> list[list[str]]:
    """Every 约谈 about the round's problems, once (a talk about several problems names them all)."""
    numbers = {i.id: i.number for i in items}
    talks: dict[int, dict] = {}
    about_items = talks_about(session, list(numbers))
    for item_id, about in sorted(about_items.items()):  # ledger order of the problems each names
        for talk in about:
            talks.setdefault(talk["id"], talk | {"numbers": []})["numbers"].append(numbers[item_id])
    ordered = sorted(talks.values(), key=lambda t: (t["held_on"], t["id"]))
    return [[str(n), t["held_on"], t["kind"], t["people"], "、".join(f"第{x}号" for x in t["numbers"]), t["outcome"]]
            for n, t in enumerate(ordered, start=1)]


def _approved_changes(session, round_id: int, local_date) -> list[list[str]]:
    """Every approved 变更申请 of the round (延期 first among them as they come), in the order approved."""
    rows = session.execute(select(ChangeRequest, Item.number, Item.title, User.name).join(Item, Item.id == ChangeRequest.item_id)
                           .outerjoin(User, User.id == ChangeRequest.decided_by)
                           .where(Item.round_id == round_id, ChangeRequest.status == APPROVED)
                           .order_by(ChangeRequest.decided_at, ChangeRequest.id)).all()
    return [[str(n), f"第{number}号 {title}", change_view(session, c)["summary"], c.reason, approver or "",
             local_date(c.decided_at).isoformat()] for n, (c, number, title, approver) in enumerate(rows, start=1)]


def _latest(records: list[dict], key: str) -> str:
    return next((str(r[key]).strip() for r in reversed(records) if str(r.get(key) or "").strip()), "")


def upward_report(engine: Engine, round_ref: str | int) -> dict:
    """The 整改情况报告 of a round as plain values (see the module docstring for its sections)."""
    now = CLOCK.now()
    today = engine.lights.local_date(now)
    with engine.db.reading() as session:
        round_ = find_round(session, round_ref)
        # Streamed in batches: only the few fields the later tables need are kept of each item.
        items = session.execute(select(Item).where(Item.round_id == round_.id).order_by(Item.id)
                                .options(*ITEM_LOAD_OPTIONS).execution_options(yield_per=ITEM_BATCH)).scalars()
        listed: list[Listed] = []
        records, accountability = split_accountability(engine, session, work_records(session, round_.id))
        running, steps = running_items(session, round_.id), open_steps(session, round_.id)
        signers, evidence = _signers(session, round_.id), _evidence_counts(session, round_.id)
        activities = round_activities(session, round_.id)
        dues = earliest_dues(session, round_.id)
        issuer = issuer_of(round_)

        problems_by_aspect: dict[str, list[list[str]]] = defaultdict(list)
        aspect_order: dict[str, int] = {}
        open_rows, statuses = [], Counter()
        for n, item in enumerate(items, start=1):
            listed.append(Listed(item.id, item.number, item.title))
            status = status_text(item.status, under_observation(item, running))
            statuses[status] += 1
            aspect = aspect_title(item.aspect.title) if item.aspect else "其他问题"
            aspect_order.setdefault(aspect, item.aspect.position if item.aspect else 10**9)
            closed_on = engine.lights.local_date(item.closed_at).isoformat() if item.closed_at else "—"
            light = engine.lights.for_round(item.round).item_light(item.deadline, item.status, now, dues.get(item.id))
            problems_by_aspect[aspect].append([
                str(n), item.title, f"{item.unit.name}\n{item.person.name}",
                done_text(records.get(item.id, []), item.unit.name, item.deadline),
                status if item.status != STATUS_OPEN else f"{status}\n{light}灯", str(evidence.get(item.id, 0)),
                closed_on, signers.get(item.id, "—")])
            if item.status == STATUS_OPEN:
                plan = _latest(records.get(item.id, []), "planned_completion")
                reason = _latest(records.get(item.id, []), "issues") or f"正在办理：{current_step(item, steps, running) or '—'}"
                open_rows.append([str(n), item.title, item.unit.name, reason, item.deadline.isoformat(),
                                  plan[:10] or "—", light])

        overview = [_paragraph(p) for p in paragraphs(round_.upward_plan)]
        figures = activity_figures(activities)
        overview += [_paragraph(figures)] if figures else []
        overview += [_paragraph(p) for p in paragraphs(round_.report_practices)]
        if activities:
            overview.append(_table("整改工作记录", ["日期", "类型", "议题或名称", "文号"],
                                   [[a["held_on"], a["kind"], a["topic"], a["doc_number"]] for a in activities],
                                   [14, 12, 52, 22]))
        if not overview:
            overview.append(_paragraph("（整改办尚未填写整改方案总体情况）"))
        problem_blocks = []
        for index, aspect in enumerate(sorted(problems_by_aspect, key=aspect_order.get), start=1):
            problem_blocks.append({"kind": "subheading", "text": f"（{chinese_number(index)}）{aspect}"})
            problem_blocks.append(_table("", ["序号", "问题", "责任单位\n责任人", "整改措施及成效", "状态", "佐证\n材料",
                                              "销号日期", "签字"], problems_by_aspect[aspect], [7, 13, 11, 22, 13, 7, 13, 14]))
        done = statuses[status_text(STATUS_CLOSED, False)] + statuses[status_text(STATUS_CLOSED, True)]
        withdrawn = statuses[status_text(STATUS_WITHDRAWN, False)]
        summary = (f"截至{chinese_date(today)}，反馈的{len(listed)}个问题中，已完成整改{done}个，"
                   f"正在整改{len(listed) - done - withdrawn}个" + (f"，经批准撤销{withdrawn}个。" if withdrawn else "。"))
        sections = [
            ("整改工作总体情况", overview),
            ("问题整改情况", [_paragraph(summary), *problem_blocks]),
            ("建章立制情况", [_table("", ["序号", "制度名称", "文号", "印发日期", "制定或修订", "来源"], [
                [str(n), r["title"], r["doc_number"], r["issued_on"], r["kind"], r["source"]]
                for n, r in enumerate(rule_rows(session, round_.id), start=1)], [6, 36, 20, 14, 10, 14])]),
            ("问责情况", [_table("", ["序号", "问题序号", "问题", "环节", "问责措施及处理", "办理人", "日期"],
                                 _accountability_rows(listed, accountability, engine.lights.local_date),
                                 [5, 7, 20, 10, 34, 10, 14])]),
            ("督办情况", [_table("", ["序号", "发出日期", "督办要求", "涉及问题", "回复期限", "回复情况"],
                                 _notice_rows(session, round_.id, today, engine.lights.local_date),
                                 [5, 12, 28, 20, 12, 23])]),
            ("约谈和提醒谈话", [_table("", ["序号", "日期", "类型", "谈话对象", "涉及问题", "谈话情况"],
                                      _talk_rows(session, listed), [5, 12, 10, 14, 22, 37])]),
            ("尚未完成整改的问题", [_table("", ["序号", "问题", "责任单位", "原因或进展", "整改时限", "计划完成", "灯色"],
                                        open_rows, [7, 22, 14, 27, 11, 11, 8])]),
            ("经批准的延期和调整", [_table("", ["序号", "问题", "变更", "理由", "批准人", "批准日期"],
                                        _approved_changes(session, round_.id, engine.lights.local_date),
                                        [5, 20, 30, 23, 9, 13])]),
            ("下一步工作打算", [_paragraph(p) for p in paragraphs(round_.report_next_steps)]),
        ]
        day = round_.report_date or today
        return {
            "round": round_view(round_),
            "title_lines": title_lines(issuer, round_.inspection_group, "整改情况的报告"),
            "recipient": f"{round_.upward_recipient}：" if round_.upward_recipient else "",
            "opening": inspection_sentence(round_) + summary + "现将整改情况报告如下。",
            "sections": [{"heading": f"{chinese_number(n)}、{title}", "blocks": blocks}
                         for n, (title, blocks) in enumerate([s for s in sections if s[1]], start=1)],
            "issuer": issuer, "date": chinese_date(day),
            "counts": {"problems": len(listed), "closed": done, "open": len(listed) - done - withdrawn, "withdrawn": withdrawn,
                       "accountability": sum(len(v) for v in accountability.values())},
        }


# Units (mostly table rows) a window of the PDF lays out at once (engine/reports/chunked_pdf.py).
PDF_CHUNK = 100  # 150 peaked 6 MB higher (162 against 156 MB at 2,000 problems) in the same time


def document_units(doc: dict) -> tuple[list[dict], list[dict]]:
    """A formal document as the flat list of units official_document.html lays out, and its tables (a row
    unit names its table): title, 主送, paragraphs, headings, table captions and rows, 落款, note."""
    units, tables = [{"kind": "title", "lines": doc["title_lines"]}], []
    units += [{"kind": kind, "text": doc[key]} for kind, key in (("recipient", "recipient"), ("p", "opening")) if doc.get(key)]
    for section in doc["sections"]:
        units.append({"kind": "h2", "text": section["heading"]})
        for block in section["blocks"]:
            if block["kind"] == "table":
                units += [{"kind": "caption", "text": block["caption"]}] if block["caption"] else []
                tables.append(block)
                units += [{"kind": "row", "table": len(tables) - 1, "cells": row} for row in block["rows"]] or [
                    {"kind": "row", "table": len(tables) - 1, "cells": None}]
            else:
                units.append({"kind": "h3" if block["kind"] == "subheading" else "p", "text": block["text"]})
    units.append({"kind": "ending"})
    return units + ([{"kind": "note", "text": doc["footer_note"]}] if doc.get("footer_note") else []), tables


def _window_html(doc: dict, tables: list[dict]):
    def window(units: list[dict], first_unit: int, first_page: int) -> str:
        return render.html("official_document.html", doc=doc, tables=tables, units=units, first_unit=first_unit,
                           first_page=first_page)
    return window


def render_upward_html(report: dict) -> str:
    units, tables = document_units(report)
    return _window_html(report, tables)(units, 0, 1)


def write_upward_pdf(report: dict, target: BinaryIO, chunk: int = PDF_CHUNK, progress: Progress | None = None) -> int:
    """A4, 公文 layout, page numbers, written to a file `chunk` units at a time (bounded memory), telling
    `progress` after each window (engine/reports/document_jobs.py shows it). Returns the pages."""
    units, tables = document_units(report)
    return write_chunked_pdf(units, _window_html(report, tables), target, chunk, progress)


def upward_pdf_file(report: dict, chunk: int = PDF_CHUNK) -> BinaryIO:
    """The same PDF in a rewound anonymous temporary file (to stream as a web response, then close)."""
    units, tables = document_units(report)
    return pdf_file(units, _window_html(report, tables), chunk)


def render_upward_pdf(report: dict, chunk: int = PDF_CHUNK) -> bytes:
    """The same PDF as bytes."""
    units, tables = document_units(report)
    return pdf_bytes(units, _window_html(report, tables), chunk)


def upward_file_name(report: dict, day: str, kind: str) -> str:
    """The name a downloaded report carries: round, title, the day it was made, .pdf or .docx."""
    return f"{report['round']['name']}-整改情况报告-{day}.{kind}"


def render_upward_docx(report: dict) -> bytes:
    from engine.reports.docx import document_docx

    return document_docx(report)
