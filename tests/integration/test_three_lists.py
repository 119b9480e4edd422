"""三张清单 (`rectify ledger export --lists`): 问题清单, 任务清单 and 责任清单 of a round driven through its steps,
read back from the workbook."""
from __future__ import annotations

import zipfile
from datetime import timedelta
from io import BytesIO

import pytest
from helpers import DEADLINE, PASSWORD, TODAY, close_immediate_item, do, evidence, open_tasks, sign
from openpyxl import load_workbook

from engine.clock import CLOCK
from engine.demo import DEMO_ROUND
from engine.ledger.items import NewItem, add_item
from engine.ledger.xlsx.lists import export_lists, three_lists
from engine.people.directory import add_user, user_id_of
from engine.store.models import IMMEDIATE, LONG_TERM, TIME_LIMITED
from engine.work.completion import complete_task

ROUND = "测试轮次"
LATE = TODAY - timedelta(days=5)
PLANNED = (DEADLINE - timedelta(days=10)).isoformat()
MILESTONE = (TODAY + timedelta(days=20)).isoformat()
PLAN = {"measures": "修订报销审核制度", "milestones": [{"title": "完成制度修订", "due": MILESTONE}],
        "planned_completion": PLANNED}
MECHANISM = {"mechanism": "建立招投标全过程监管机制",
             "rules": [{"title": "招投标管理办法", "action": "修订"}, {"title": "评标专家管理规定", "action": "新建"}]}


def add(engine, number, category, person, leader, deadline=DEADLINE, title=None, unit="财务科") -> int:
    return add_item(engine, ROUND, NewItem(number=number, title=title or f"测试问题{number}", category=category, unit=unit,
                                           person=person, leader=leader, deadline=deadline, aspect="（一）测试方面"))["id"]


def enact(engine, item, rule):
    [task] = [t for t in open_tasks(engine, item) if t["step"] == f"建章立制：{rule}"]
    complete_task(engine, task["id"], {"title": rule, "doc_number": "市政〔2026〕1号", "issued_on": TODAY.isoformat()},
                  user_id_of(engine, "王强"), None, evidence())


@pytest.fixture
def driven(staffed_round):
    """Four items, two leaders: 1 立行立改 closed; 2 限期整改 with its second plan approved (the first 退回);
    3 限期整改 past its deadline, its plan 退回 and not yet resubmitted, titled like a formula; 4 长效治理 with
    its mechanism approved and one of its two rules enacted."""
    engine = staffed_round
    add_user(engine, "黄磊", "处领导班子", ["分管领导"], PASSWORD)
    first = add(engine, "1", IMMEDIATE, "张伟", "陈刚")
    close_immediate_item(engine, first)
    second = add(engine, "2", TIME_LIMITED, "张伟", "陈刚")
    do(engine, second, "plan_task", "张伟", PLAN | {"measures": "先自查"})
    sign(engine, second, "plan_approval", "陈刚", "reject", "措施不具体")
    do(engine, second, "plan_task", "张伟", PLAN)
    sign(engine, second, "plan_approval", "陈刚")
    third = add(engine, "3", TIME_LIMITED, "王强", "黄磊", LATE, "=SUM(A1)", "工程管理科")
    do(engine, third, "plan_task", "王强", PLAN | {"planned_completion": LATE.isoformat()})
    sign(engine, third, "plan_approval", "黄磊", "reject", "措施不具体")
    fourth = add(engine, "4", LONG_TERM, "王强", "陈刚", unit="工程管理科")
    do(engine, fourth, "mechanism_plan", "王强", MECHANISM)
    sign(engine, fourth, "plan_approval", "陈刚")
    enact(engine, fourth, "招投标管理办法")
    return engine


def sheets(data: bytes) -> dict[str, list[dict]]:
    """Sheet title -> its rows as {header: value}, every cell checked to be text."""
    workbook = load_workbook(BytesIO(data))
    read = {}
    for sheet in workbook.worksheets:
        assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
        header, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
        read[sheet.title] = [dict(zip(header, row)) for row in rows]
    return read


def test_the_three_lists_of_a_driven_round(driven):
    engine = driven
    data = export_lists(engine, ROUND)
    lists = sheets(data)
    assert list(lists) == ["问题清单", "任务清单", "责任清单"]
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert not any("<f>" in archive.read(f"xl/worksheets/sheet{n}.xml").decode() for n in (1, 2, 3))

    problems = lists["问题清单"]
    now = CLOCK.now()
    assert [(p["序号"], p["问题"], p["状态"], p["灯色"], p["分管领导"]) for p in problems] == [
        ("1", "测试问题1", "已销号", "已销号", "陈刚"),
        ("2", "测试问题2", "整改中", engine.lights.light(DEADLINE, "整改中", now), "陈刚"),
        ("3", "=SUM(A1)", "整改中", engine.lights.light(LATE, "整改中", now), "黄磊"),
        ("4", "测试问题4", "整改中", engine.lights.light(DEADLINE, "整改中", now), "陈刚"),
    ]
    assert [(p["当前环节"], p["销号日期"]) for p in problems] == [
        ("已办结", TODAY.isoformat()), ("提交完成材料", None), ("制定整改方案", None), ("建章立制：评标专家管理规定", None)]
    assert list(problems[0]) == ["序号", "方面", "问题", "问题描述", "整改类别", "责任单位", "责任人", "分管领导", "整改时限",
                                 "完成标准", "状态", "灯色", "当前环节", "销号日期"]

    tasks = [(t["问题序号"], t["任务类型"], t["内容"], t["完成时限或日期"], t["完成情况"], t["来源环节"])
             for t in lists["任务清单"]]
    assert tasks == [
        ("1", "整改措施", "已追回违规发放的津贴", "2026-03-01", "已完成", "落实整改"),
        ("2", "整改措施", "修订报销审核制度", PLANNED, "进行中", "制定整改方案"),  # the approved plan, not the 退回 one
        ("2", "阶段节点", "完成制度修订", MILESTONE, "进行中", "制定整改方案"),
        ("3", None, "（整改方案尚未审批通过）", LATE.isoformat(), "进行中", None),
        ("4", "长效机制", "建立招投标全过程监管机制", DEADLINE.isoformat(), "进行中", "制定长效机制方案"),
        ("4", "建章立制", "《招投标管理办法》（市政〔2026〕1号）", TODAY.isoformat(), "已完成", "建章立制：招投标管理办法"),
        ("4", "建章立制", "新建《评标专家管理规定》", DEADLINE.isoformat(), "进行中", "制定长效机制方案"),
    ]
    assert lists["任务清单"][3]["问题"] == "=SUM(A1)"

    duties = [list(d.values()) for d in lists["责任清单"]]
    assert duties == [
        ["陈刚", "处领导班子", "分管领导", "3", "1", "2", "0", "1、2、4"],
        ["黄磊", "处领导班子", "分管领导", "1", "0", "1", "1", "3"],
        ["王强", "工程管理科", "责任人", "2", "0", "2", "1", "3、4"],
        ["张伟", "财务科", "责任人", "2", "1", "1", "0", "1、2"],
    ]
    assert three_lists(engine, ROUND).counts == {"问题清单": 4, "任务清单": 7, "责任清单": 4}


def test_an_item_with_no_plan_yet_has_one_row_by_its_deadline(staffed_round):
    add(staffed_round, "1", TIME_LIMITED, "张伟", "陈刚")
    [task] = sheets(export_lists(staffed_round, ROUND))["任务清单"]
    assert (task["内容"], task["完成时限或日期"], task["完成情况"]) == ("（尚未制定整改方案）", DEADLINE.isoformat(), "进行中")


def test_cli_exports_the_three_lists(cli, tmp_path):
    cli("demo")
    out = tmp_path / "三张清单.xlsx"
    result = cli.json("ledger", "export", "--round", DEMO_ROUND, out, "--lists")
    assert result == {"id": 1, "round": DEMO_ROUND, "file": str(out), "bytes": out.stat().st_size,
                      "lists": {"问题清单": 5, "任务清单": 5, "责任清单": 3}}
    assert load_workbook(out).sheetnames == ["问题清单", "任务清单", "责任清单"]
    text = cli("ledger", "export", "--round", DEMO_ROUND, out, "--lists").output.strip()
    assert text == f"已导出轮次「{DEMO_ROUND}」的三张清单到 {out}（问题 5 条，任务 5 条，责任 3 条）"
    assert "lists" not in cli.json("ledger", "export", "--round", DEMO_ROUND, out)  # the ledger, as before
