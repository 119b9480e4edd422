"""整改进展情况公布 (docs/domain.md, documents): the public progress report of a round, as plain values, as HTML (a
standalone page, also served as the web page) and as PDF.

Shape: title (naming the issuer, as the closing does); opening paragraph (who deployed the inspection,
who inspected whom and when, to which Party organisation feedback was given, 按照党务公开原则); 一、整改主要做法
(the figures of the round's recorded work, then the round's text); 二、问题整改进展情况 with a count, then by aspect `（一）…` in ledger order, each
published problem as `1.关于“问题”问题的整改情况。` followed by what was done and its status; 三、下一步工作打算 (the round's text); the contact line;
the issuing body and date. A text section the office left empty is left out and the others renumbered.

Accountability is never the public text of a problem: steps in the 纪检监察 lane (问责处理 in the
shipped processes) are left out of what was done. 整改办 may publish a sentence of its own about
accountability taken, per item (`Item.public_accountability`), shown after what was done.

Problems are numbered straight through the report (1, 2, … in ledger order), under the aspect
headings `（一）…`, as published reports number them.

What was done is taken from the officers' recorded steps, by field: the latest long-term mechanism
(`mechanism`), the rules enacted (`title` + `doc_number`), then the latest results (`measures` +
`result`), else the latest progress report (`progress`), else the approved plan (`measures`); with
nothing recorded yet, the responsible unit and deadline.

Status wording:
  已完成整改              closed (已销号) and its path finished
  已完成整改，长期坚持    closed, but a long-term item still in its 回头看 period
  正在整改中              open (including an item reopened after a rebound)
"""
from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, BinaryIO, Iterable

from sqlalchemy import select

from engine import render
from engine.clock import CLOCK
from engine.ledger.activities import activity_figures, round_activities
from engine.ledger.items import ITEM_LOAD_OPTIONS
from engine.ledger.round_facts import running_items, under_observation, work_records
from engine.ledger.rounds import find_round, issuer_of, round_view
from engine.process.bpmn import step_id
from engine.process.deploy import all_task_specs
from engine.process.instances import version_spec
from engine.reports.chunked_pdf import pdf_bytes, pdf_file, write_chunked_pdf
from engine.store.models import DISCIPLINE, STATUS_CLOSED, STATUS_WITHDRAWN, Item, Round

if TYPE_CHECKING:
    from engine.core import Engine

COMPLETED = "已完成整改"
OBSERVING = "已完成整改，长期坚持"
IN_PROGRESS = "正在整改中"
WITHDRAWN_TEXT = "已撤销"  # only in internal documents: the public report leaves withdrawn items out
NUMERALS = "一二三四五六七八九十"
_ORDINAL_PREFIX = re.compile(r"^\s*(?:[（(][一二三四五六七八九十百]+[）)]|[一二三四五六七八九十百]+[、.．]|\d+[、.．])\s*")
_END_PUNCTUATION = "。！？…"


def chinese_number(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def date_range(start: date, end: date) -> str:
    """2026年3月1日至4月30日 (the year once when both days share it)."""
    tail = f"{end.month}月{end.day}日" if start.year == end.year else chinese_date(end)
    return f"{chinese_date(start)}至{tail}"


def sentence(text) -> str:
    """Text as one sentence run: lines joined, ending in 。."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    joined = "".join(line if line[-1] in _END_PUNCTUATION + "；;，,：:" else line + "；" for line in lines[:-1])
    joined += lines[-1] if lines else ""
    if joined and joined[-1] in "；;，,：:":
        joined = joined[:-1]
    return joined + "。" if joined and joined[-1] not in _END_PUNCTUATION else joined


def title_lines(issuer: str, group: str, subject: str, width: int = 20) -> list[str]:
    """A document title broken where it reads well, each line within `width` characters where it can:
    中共××委员会 / 关于市委第三巡察组巡察反馈意见 / 整改情况的报告."""
    whole = f"{issuer}关于{group}巡察反馈意见{subject}"
    if len(whole) <= width:
        return [whole]
    if len(f"{issuer}关于{group}") <= width:
        return [f"{issuer}关于{group}", f"巡察反馈意见{subject}"]
    tail = f"关于{group}巡察反馈意见{subject}"
    return [issuer, tail] if len(tail) <= width else [issuer, f"关于{group}巡察反馈意见", subject]


def aspect_title(title: str) -> str:
    """An aspect's title without the ordinal the ledger may have given it (（一）, 一、, 1.)."""
    return _ORDINAL_PREFIX.sub("", title)


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def problem_heading(n: int, title: str) -> str:
    """1.关于“违规发放津贴补贴”问题的整改情况。 (inner “” become ‘’; a title's own trailing 问题 dropped)."""
    title = title.strip().rstrip("。；;")
    if title.endswith("问题") and len(title) > 2:
        title = title[:-2]
    title = title.replace("“", "‘").replace("”", "’").replace('"', "")
    return f"{n}.关于“{title}”问题的整改情况。"


def status_text(status: str, observing: bool) -> str:
    if status == STATUS_CLOSED:
        return OBSERVING if observing else COMPLETED
    return WITHDRAWN_TEXT if status == STATUS_WITHDRAWN else IN_PROGRESS


def done_text(records: list[dict], unit: str, deadline: date) -> str:
    """What was done, from the officers' recorded step data (oldest first)."""
    def latest(key):
        return next((r for r in reversed(records) if str(r.get(key) or "").strip()), None)

    parts = []
    mechanism = latest("mechanism")
    if mechanism:
        parts.append(sentence(mechanism["mechanism"]))
    rules = {}
    for record in records:
        if record.get("doc_number") and record.get("title"):
            rules[record["title"]] = record["doc_number"]
    if rules:
        parts.append("已印发" + "、".join(f"《{title}》（{number}）" for title, number in rules.items()) + "。")
    result = latest("result")
    if result:
        parts += [sentence(result.get("measures")), sentence(result["result"])]
    elif latest("progress"):
        parts.append(sentence(latest("progress")["progress"]))
    elif latest("measures") and not mechanism:
        plan = latest("measures")
        parts.append(sentence(plan["measures"]))
        if plan.get("planned_completion"):
            parts.append(f"计划于{chinese_date(date.fromisoformat(str(plan['planned_completion'])[:10]))}前完成。")
    if not parts:
        parts.append(f"已明确由{unit}负责整改，整改时限为{chinese_date(deadline)}。")
    return "".join(p for p in parts if p)


def inspection_sentence(round_: Round) -> str:
    """根据市委统一部署，2026年3月1日至4月30日，市委第一巡察组对…进行了巡察。2026年5月20日，巡察组向…党委反馈了巡察意见。"""
    group, body = round_.inspection_group, round_.inspected_body
    if round_.inspection_start and round_.inspection_end:
        when = date_range(round_.inspection_start, round_.inspection_end) + "，"
    elif round_.inspection_start:
        when = f"{chinese_date(round_.inspection_start)}起，"
    else:
        when = ""
    authority = (round_.deploying_authority or "").strip() or "巡察工作"
    recipient = (round_.feedback_recipient or "").strip() or body
    return (f"根据{authority}统一部署，{when}{group}对{body}进行了巡察。{chinese_date(round_.feedback_date)}，"
            f"{group}向{recipient}反馈了巡察意见。")


def _opening(round_: Round) -> str:
    return inspection_sentence(round_) + "按照党务公开原则和巡察整改工作有关要求，现将巡察整改进展情况予以公布。"


def split_accountability(engine: Engine, session, records: dict[int, list[dict]]) -> tuple[dict, dict]:
    """Each item's recorded steps (round_facts.work_records) split into (the rectification steps'
    data, the accountability steps' records): a step is accountability when its lane is 纪检监察."""
    versions = {r["version_id"] for steps in records.values() for r in steps}
    internal = set()
    for version_id in versions:
        spec = version_spec(engine, session, version_id)
        internal |= {(version_id, step_id(t)) for t in all_task_specs(spec.spec, spec.subprocess_specs)
                     if (getattr(t, "lane", None) or "") == DISCIPLINE}
    public, accountability = {}, {}
    for item_id, steps in records.items():
        public[item_id] = [r["data"] for r in steps if (r["version_id"], r["bpmn_id"]) not in internal]
        accountability[item_id] = [r for r in steps if (r["version_id"], r["bpmn_id"]) in internal]
    return public, accountability


def _aspects(items: Iterable[Item], records, running) -> tuple[list[dict], dict]:
    groups: dict[int | None, dict] = {}
    counts = {"published": 0, COMPLETED: 0, OBSERVING: 0, IN_PROGRESS: 0}
    for item in items:
        key = item.aspect_id
        if key not in groups:
            title = aspect_title(item.aspect.title) if item.aspect else "其他问题"
            groups[key] = {"title": title, "problems": [], "position": item.aspect.position if item.aspect else 10**9}
        status = status_text(item.status, under_observation(item, running))
        counts["published"] += 1
        counts[status] += 1
        groups[key]["problems"].append({
            "item_id": item.id, "number": item.number, "title": item.title,
            "done": done_text(records.get(item.id, []), item.unit.name, item.deadline),
            "accountability": sentence(item.public_accountability) if (item.public_accountability or "").strip() else "",
            "status": status, "status_sentence": f"目前，该问题{status}。",
        })
    aspects = sorted(groups.values(), key=lambda g: g["position"])
    number = 0
    for n, aspect in enumerate(aspects, start=1):
        aspect["heading"] = f"（{chinese_number(n)}）{aspect.pop('title')}"
        aspect.pop("position")
        for problem in aspect["problems"]:  # straight through the report, under the aspect headings
            number += 1
            problem["heading"] = problem_heading(number, problem["title"])
    return aspects, counts


def _summary(as_of: str, counts: dict) -> str:
    done = counts[COMPLETED] + counts[OBSERVING]
    long_term = f"（其中{counts[OBSERVING]}个需长期坚持）" if counts[OBSERVING] else ""
    return (f"截至{as_of}，{counts['published']}个问题中，已完成整改{done}个{long_term}，"
            f"正在整改{counts[IN_PROGRESS]}个。")


def progress_report(engine: Engine, round_ref: str | int) -> dict:
    """The report of a round as plain values, ready for the template (or any other rendering)."""
    with engine.db.reading() as session:
        round_ = find_round(session, round_ref)
        records, _ = split_accountability(engine, session, work_records(session, round_.id))
        running = running_items(session, round_.id)
        # Streamed in batches: each item is made into the report's plain values and let go.
        items = session.execute(
            select(Item).where(Item.round_id == round_.id, Item.publish.is_(True), Item.status != STATUS_WITHDRAWN)
            .order_by(Item.id)
            .options(*ITEM_LOAD_OPTIONS).execution_options(yield_per=500)).scalars()
        aspects, counts = _aspects(items, records, running)
        day = round_.report_date or engine.lights.local_date(CLOCK.now())
        issuer = issuer_of(round_)
        # The title names who issues it, as the closing does.
        title = title_lines(issuer, round_.inspection_group, "整改进展情况的通报")
        figures = activity_figures(round_activities(session, round_.id))
        sections = [
            {"title": "整改主要做法", "paragraphs": [p for p in [figures] if p] + paragraphs(round_.report_practices),
             "aspects": []},
            {"title": "问题整改进展情况", "paragraphs": [_summary(chinese_date(day), counts)], "aspects": aspects},
            {"title": "下一步工作打算", "paragraphs": paragraphs(round_.report_next_steps), "aspects": []},
        ]
        sections = [s for s in sections if s["paragraphs"] or s["aspects"]]
        for n, section in enumerate(sections, start=1):
            section["heading"] = f"{chinese_number(n)}、{section.pop('title')}"
        contact = (round_.report_contact or "").strip()
        return {
            "round": round_view(round_), "title": "".join(title), "title_lines": title, "opening": _opening(round_), "sections": sections,
            "contact": (f"欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。联系方式：{contact}"
                        + ("" if contact[-1] in _END_PUNCTUATION else "。")) if contact else "",
            "issuer": issuer, "date": chinese_date(day), "counts": counts,
        }


# Problems a window of the PDF lays out at once (engine/reports/chunked_pdf.py): ~40 pages, ~30 MB of layout.
PDF_CHUNK = 200


def progress_units(report: dict) -> list[dict]:
    """The report as the flat list of units the template lays out: title, paragraphs, headings, problems
    (a heading and its text, never apart) and the ending (contact, issuer and date)."""
    units = [{"kind": "title", "lines": report["title_lines"]}, {"kind": "p", "text": report["opening"]}]
    for section in report["sections"]:
        units.append({"kind": "h2", "text": section["heading"]})
        units += [{"kind": "p", "text": text} for text in section["paragraphs"]]
        for aspect in section["aspects"]:
            units.append({"kind": "h3", "text": aspect["heading"]})
            units += [{"kind": "problem", "heading": p["heading"],
                       "text": p["done"] + (p["accountability"] or "") + p["status_sentence"]}
                      for p in aspect["problems"]]
    return units + [{"kind": "ending"}]


def _window_html(report: dict):
    def window(units: list[dict], first_unit: int, first_page: int) -> str:
        return render.html("progress_report.html", **report, units=units, first_unit=first_unit, first_page=first_page)
    return window


def render_progress_html(report: dict) -> str:
    """The report as a standalone HTML page (print styles give the PDF its pages)."""
    return _window_html(report)(progress_units(report), 0, 1)


def write_progress_pdf(report: dict, target: BinaryIO, chunk: int = PDF_CHUNK) -> int:
    """The report as an A4 PDF with page numbers, written to a file, laid out `chunk` problems at a time
    so that memory stays bounded however long the round. Returns the number of pages."""
    return write_chunked_pdf(progress_units(report), _window_html(report), target, chunk)


def progress_pdf_file(report: dict, chunk: int = PDF_CHUNK) -> BinaryIO:
    """The same PDF in a rewound anonymous temporary file (to stream as a web response, then close)."""
    return pdf_file(progress_units(report), _window_html(report), chunk)


def render_progress_pdf(report: dict, chunk: int = PDF_CHUNK) -> bytes:
    """The same PDF as bytes."""
    return pdf_bytes(progress_units(report), _window_html(report), chunk)
