"""The wording of the public progress report (整改进展情况公布), without a database."""
from datetime import date

import pytest

from engine.reports.progress import (
    chinese_number,
    date_range,
    done_text,
    problem_heading,
    sentence,
    status_text,
)
from engine.store.models import STATUS_CLOSED, STATUS_OPEN


def test_problem_headings_read_as_such_reports_do():
    assert problem_heading(1, "违规发放津贴补贴") == "1.关于“违规发放津贴补贴”问题的整改情况。"
    assert problem_heading(2, "工程档案管理不规范问题") == "2.关于“工程档案管理不规范”问题的整改情况。"
    assert problem_heading(3, "“三会一课”制度落实不到位") == "3.关于“‘三会一课’制度落实不到位”问题的整改情况。"


@pytest.mark.parametrize("status,observing,text", [
    (STATUS_CLOSED, False, "已完成整改"),
    (STATUS_CLOSED, True, "已完成整改，长期坚持"),
    (STATUS_OPEN, False, "正在整改中"),
])
def test_status_wording(status, observing, text):
    assert status_text(status, observing) == text


def test_what_was_done_comes_from_the_latest_officer_data():
    plan = {"measures": "制定专项整治方案", "planned_completion": "2026-12-31", "milestones": []}
    first = {"measures": "追回部分款项", "result": "尚余2万元未追回", "completed_on": "2026-03-01"}
    second = {"measures": "追回全部违规款项\n对相关人员批评教育", "result": "已全部追回并上缴；", "completed_on": "2026-03-09"}
    assert done_text([plan, first, second], "财务科", date(2026, 6, 30)) == \
        "追回全部违规款项；对相关人员批评教育。已全部追回并上缴。"
    assert done_text([plan], "财务科", date(2026, 6, 30)) == "制定专项整治方案。计划于2026年12月31日前完成。"
    assert done_text([plan, {"progress": "已完成初稿", "percent": 40}], "财务科", date(2026, 6, 30)) == "已完成初稿。"
    assert done_text([], "财务科", date(2026, 6, 30)) == "已明确由财务科负责整改，整改时限为2026年6月30日。"


def test_long_term_work_names_the_mechanism_and_the_rules_enacted():
    records = [
        {"mechanism": "建立招投标全过程监管机制", "rules": [{"title": "招投标管理办法", "action": "修订"}]},
        {"title": "招投标管理办法", "doc_number": "市政〔2026〕1号", "issued_on": "2026-05-01"},
        {"title": "评标专家管理规定", "doc_number": "市政〔2026〕2号", "issued_on": "2026-05-02"},
        {"title": "招投标管理办法", "doc_number": "市政〔2026〕5号", "issued_on": "2026-06-01"},  # re-issued
        {"rebound": False, "findings": "制度执行良好"},  # 整改办's look-back is not the officer's work
    ]
    assert done_text(records, "工程管理科", date(2026, 12, 31)) == (
        "建立招投标全过程监管机制。已印发《招投标管理办法》（市政〔2026〕5号）、《评标专家管理规定》（市政〔2026〕2号）。")


def test_numbers_dates_and_sentences():
    assert [chinese_number(n) for n in (1, 8, 10, 11, 20, 23)] == ["一", "八", "十", "十一", "二十", "二十三"]
    assert date_range(date(2026, 3, 1), date(2026, 4, 30)) == "2026年3月1日至4月30日"
    assert date_range(date(2025, 12, 1), date(2026, 1, 30)) == "2025年12月1日至2026年1月30日"
    assert sentence("已整改完毕！") == "已整改完毕！"
    assert sentence("  ") == ""
