"""The documents of a round on the 25-problem, 8-aspect ledger, as a body sends them out: the public
report (wording, numbering, nothing from 问责), the 销号单 of an evaluated problem (its evaluation on
it), and the 整改情况报告 upward (every problem with its status, every accountability step, rules,
open problems) as PDF and .docx."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from docx import Document as WordDocument
from helpers import FEEDBACK, TODAY, do, evidence, pdf_text, sign
from ledger_fixture import EVALUATED, HIDDEN, PROBLEMS, close_allowances

from engine.clock import add_months
from engine.closure import signing
from engine.closure.records import document_file, item_closure_documents
from engine.ledger.activities import add_activity
from engine.ledger.items import list_items
from engine.ledger.rounds import update_round_report_text
from engine.process.timers import tick
from engine.reports.dashboard import dashboard
from engine.reports.progress import progress_report, render_progress_html
from engine.reports.upward import render_upward_docx, render_upward_pdf, upward_report

ROUND = "测试轮次"
SECRET = "对王强进行诫勉谈话，对相关人员约谈并通报批评"
OVERDUE = "工程项目档案资料缺失"  # 12 days past its deadline at import
RECIPIENT = "中共市政工程管理处委员会"


def _id(engine, title: str) -> int:
    return next(i["id"] for i in list_items(engine, ROUND) if i["title"] == title)


def _evaluate_and_close(engine, item: int) -> None:
    """限期整改 with a third-party evaluation, through every step and signature to 销号."""
    planned = (TODAY + timedelta(days=60)).isoformat()
    do(engine, item, "plan_task", "王强", {"measures": "修订工程变更审批办法", "planned_completion": planned,
                                          "milestones": [{"title": "完成修订", "due": planned}]})
    sign(engine, item, "plan_approval", "陈刚")
    do(engine, item, "completion_task", "王强", {"measures": "办法已修订", "result": "已印发执行",
                                                "completed_on": TODAY.isoformat()}, files=evidence())
    sign(engine, item, "unit_head_review", "赵敏")
    do(engine, item, "third_party_evaluation", "周婷",
       {"evaluator": "某会计师事务所", "conclusion": "整改措施落实到位，审批流程已闭环", "evaluation_passed": True})
    sign(engine, item, "leader_signoff", "陈刚")
    sign(engine, item, "head_signoff", "刘洋", "approve", "同意销号")


def test_the_documents_of_a_round_of_25_problems(imported):
    engine = imported
    signing.init_dev_certificate(engine, "市政工程管理处", actor="tests")
    update_round_report_text(engine, ROUND, actor="周婷", deploying_authority="市委", feedback_recipient=RECIPIENT,
                             upward_recipient="市委巡察工作领导小组",
                             upward_plan="成立巡察整改工作领导小组，党委书记任组长。\n制定整改方案，逐项明确措施、责任人和时限。",
                             report_next_steps="持续巩固整改成果。")
    for kind, topic, number in (("党组会", "专题研究巡察整改方案", ""), ("党组会", "听取整改进展汇报", ""),
                                ("制定制度", "公务接待管理办法", "市政〔2026〕12号")):
        add_activity(engine, ROUND, kind, TODAY.isoformat(), topic, number, actor="周婷")
    close_allowances(engine, ROUND)
    evaluated = _id(engine, EVALUATED)
    _evaluate_and_close(engine, evaluated)
    overdue = _id(engine, OVERDUE)
    moment = datetime.combine(TODAY + timedelta(days=30), time(9), ZoneInfo(engine.settings.timezone))
    tick(engine, moment)  # 12 + 30 days past its deadline: 问责 goes to 纪检监察
    do(engine, overdue, "accountability_task", "吴磊", {"handling": "诫勉谈话", "measures": SECRET,
                                                       "handled_on": moment.date().isoformat()})

    # The public report: the issuer's title and closing, the deploying authority and the Party
    # organisation in the opening, numbered 1–24 straight through in ledger order, nothing from 问责.
    public = progress_report(engine, ROUND)
    assert "".join(public["title_lines"]).startswith(f"{RECIPIENT}关于市委第三巡察组") and public["issuer"] == RECIPIENT
    assert public["opening"].startswith("根据市委统一部署")
    assert f"向{RECIPIENT}反馈了巡察意见" in public["opening"] and "按照党务公开原则" in public["opening"]
    assert public["sections"][0]["paragraphs"][0] == "整改期间，召开党组（党委）会议专题研究2次，新建制度1项。"
    headings = [p["heading"] for s in public["sections"] for a in s["aspects"] for p in a["problems"]]
    published = [title for _, title, *_ in PROBLEMS if title != HIDDEN]
    assert [int(h.split(".")[0]) for h in headings] == list(range(1, 25))
    inner = str.maketrans("“”", "‘’")  # quotes inside the heading's own quotes turn single
    assert [re.search(r"“(.*)”", h).group(1) for h in headings] == [t.removesuffix("问题").translate(inner)
                                                                    for t in published]
    assert SECRET not in render_progress_html(public)

    # The 销号单 of the evaluated problem carries the evaluation its signers approved.
    [record] = item_closure_documents(engine, evaluated)
    text = pdf_text(document_file(engine, record["id"])[1], squeeze=True)
    for shown in ("录入评估结论", "评估机构", "某会计师事务所", "评估结论", "整改措施落实到位，审批流程已闭环", "是否通过"):
        assert shown in text, shown

    # The upward report: every problem with its status; every accountability step; the rules; what is open.
    report = upward_report(engine, ROUND)
    assert report["recipient"] == "市委巡察工作领导小组：" and report["issuer"] == RECIPIENT
    [problems] = [s for s in report["sections"] if s["heading"].endswith("问题整改情况")]
    rows = [row for block in problems["blocks"] if block["kind"] == "table" for row in block["rows"]]
    assert [row[1] for row in rows] == [title for _, title, *_ in PROBLEMS]  # all 25, the unpublished one too
    status = {row[1]: row[4] for row in rows}
    assert status[EVALUATED] == "已完成整改" and status[OVERDUE].startswith("正在整改中")
    signed = {row[1]: row[7] for row in rows}[EVALUATED]
    assert "赵敏（审核）" in signed and "刘洋（主要领导签字销号）" in signed
    [accountability] = [s for s in report["sections"] if s["heading"].endswith("问责情况")]
    [table] = accountability["blocks"]
    assert [(r[2], r[3]) for r in table["rows"]] == [(OVERDUE, "问责处理")]
    assert SECRET in table["rows"][0][4] and table["rows"][0][5] == "吴磊"
    [rules] = [s for s in report["sections"] if s["heading"].endswith("建章立制情况")]
    assert [r[1:3] for r in rules["blocks"][0]["rows"]] == [["公务接待管理办法", "市政〔2026〕12号"]]
    [still_open] = [s for s in report["sections"] if s["heading"].endswith("尚未完成整改的问题")]
    assert len(still_open["blocks"][0]["rows"]) == 23
    assert report["counts"] == {"problems": 25, "closed": 2, "open": 23, "withdrawn": 0, "accountability": 1}

    pdf = render_upward_pdf(report)
    text = pdf_text(pdf)
    assert "整改情况的报告" in text and re.search(r"—\s*1\s*—", text) and re.search(r"—\s*2\s*—", text)
    assert "诫勉谈话" in pdf_text(pdf, squeeze=True)  # internal: the accountability taken is in it
    word = WordDocument(BytesIO(render_upward_docx(report)))
    paragraphs = "\n".join(p.text for p in word.paragraphs)
    cells = "\n".join(c.text for t in word.tables for row in t.rows for c in row.cells)
    assert "整改情况的报告" in paragraphs and "一、整改工作总体情况" in paragraphs and SECRET in cells

    figures = dashboard(engine, ROUND)
    assert figures["rules"] == 1  # the rule the office recorded (no step enacted one)
    assert figures["upward_report"]["due"] == add_months(FEEDBACK, 2).isoformat()
    assert figures["target_rate"] == 0.95
    first, *_, last = figures["trend"]["weeks"]  # week by week since feedback, today last
    assert (first["closed"], first["open"]) == (0, 25) and first["day"] < TODAY.isoformat()
    assert (last["day"], last["closed"], last["open"]) == (TODAY.isoformat(), 2, 23)
    assert last["planned_open"] == sum(1 for *_, days, _ in PROBLEMS if days >= 0)
    assert last["黄"] + last["红"] == figures["overdue"]
