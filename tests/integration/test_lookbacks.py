"""回头看 on closed problems of any category: 整改办 picks them (chosen or at random), each is checked
by its officer and signed by its leader; a confirmed rebound reopens the problem on its own path
with the new deadline and raises 问责 for 纪检监察."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from helpers import TODAY, close_immediate_item, do, new_item, open_tasks, sign

from engine.errors import InvalidInput
from engine.ledger.detail import item_detail
from engine.ledger.lookbacks import lookback_campaigns, start_lookback
from engine.reports.dashboard import dashboard
from engine.reports.progress import progress_report
from engine.store.models import IMMEDIATE

NEW_DEADLINE = (TODAY + timedelta(days=45)).isoformat()


def steps(engine, item):
    return sorted(t["bpmn_id"] for t in open_tasks(engine, item))


def status_in_report(engine, item):
    return next(p["status"] for s in progress_report(engine, "测试轮次")["sections"] for a in s["aspects"]
                for p in a["problems"] if p["item_id"] == item)


@pytest.fixture
def closed_three(staffed_round):
    """Three 立行立改 problems, 1 and 2 closed, 3 still open."""
    items = [new_item(staffed_round, IMMEDIATE, number=str(n)) for n in (1, 2, 3)]
    for item in items[:2]:
        close_immediate_item(staffed_round, item)
    return staffed_round, items


def test_only_closed_finished_problems_can_be_picked_and_the_reason_is_named(closed_three):
    engine, (one, two, three) = closed_three
    with pytest.raises(InvalidInput) as refused:
        start_lookback(engine, "测试轮次", numbers=["3", "9"], actor="周婷")
    assert refused.value.field_errors == {"第3号": "第 3 号问题尚未销号，不能回头看", "第9号": "本轮次没有第 9 号问题"}
    with pytest.raises(InvalidInput) as refused:
        start_lookback(engine, "测试轮次", sample=3, actor="周婷")
    assert "共 2 个" in refused.value.field_errors["sample"]
    with pytest.raises(InvalidInput):
        start_lookback(engine, "测试轮次", actor="周婷")  # neither a sample nor problems
    assert lookback_campaigns(engine, "测试轮次")["campaigns"] == []  # nothing was started

    campaign = start_lookback(engine, "测试轮次", sample=1, actor="周婷", rng=random.Random(7))
    [picked] = campaign["items"]
    assert campaign["method"] == "随机抽取" and picked["result"] == "核查中" and picked["number"] in ("1", "2")
    with pytest.raises(InvalidInput) as refused:  # the same problem again, while its look-back runs
        start_lookback(engine, "测试轮次", numbers=[picked["number"]], actor="周婷")
    assert "流程仍在进行" in refused.value.field_errors[f"第{picked['number']}号"]
    assert lookback_campaigns(engine, "测试轮次")["eligible"] == 1


def test_confirmed_stays_closed_and_a_rebound_reopens_with_accountability(closed_three):
    engine, (one, two, _) = closed_three
    campaign = start_lookback(engine, "测试轮次", numbers=["1", "2"], days=20, note="第一季度回头看", actor="周婷")
    assert [r["number"] for r in campaign["items"]] == ["1", "2"] and campaign["method"] == "指定问题"
    assert campaign["due"] == (TODAY + timedelta(days=20)).isoformat()
    for item in (one, two):
        [task] = open_tasks(engine, item)
        assert (task["bpmn_id"], task["assignee"], task["due_date"]) == ("lookback_check", "张伟", campaign["due"])
        assert item_detail(engine, item)["status"] == "已销号"
        assert status_in_report(engine, item) == "已完成整改"  # not 长期坚持: a look-back is not an observation period

    do(engine, one, "lookback_check", "张伟", {"rebound": False, "findings": "津贴发放已规范，未发现反弹"})
    sign(engine, one, "lookback_signoff", "陈刚")
    assert steps(engine, one) == [] and item_detail(engine, one)["status"] == "已销号"

    rebound = {"rebound": True, "findings": "又发现两笔违规发放", "new_deadline": NEW_DEADLINE}
    do(engine, two, "lookback_check", "张伟", rebound)
    sign(engine, two, "lookback_signoff", "陈刚", "reject", "请核实金额")
    assert steps(engine, two) == ["lookback_check"] and item_detail(engine, two)["status"] == "已销号"
    do(engine, two, "lookback_check", "张伟", rebound | {"findings": "又发现两笔违规发放，共 3,200 元"})
    sign(engine, two, "lookback_signoff", "陈刚", "approve", "确认反弹，重新整改")

    detail = item_detail(engine, two)
    assert detail["status"] == "整改中" and detail["deadline"] == NEW_DEADLINE
    assert steps(engine, two) == ["accountability_task", "fix_task"]  # its path again, and 问责
    assert status_in_report(engine, two) == "正在整改中"
    results = {r["number"]: r for r in lookback_campaigns(engine, "测试轮次")["campaigns"][0]["items"]}
    assert (results["1"]["result"], results["2"]["result"]) == ("巩固", "反弹")
    assert results["2"]["new_deadline"] == NEW_DEADLINE and "3,200" in results["2"]["findings"]
    assert dashboard(engine, "测试轮次")["lookbacks"] | {} == {
        "checked": 2, "confirmed": 1, "rebounded": 1, "rebound_rate": 0.5, "rebound_rate_text": "50.0%"}

    do(engine, two, "accountability_task", "吴磊", {"handling": "批评教育", "measures": "对经办人批评教育",
                                                   "handled_on": TODAY.isoformat()})
    close_immediate_item(engine, two)  # rectified again on its own path
    assert item_detail(engine, two)["status"] == "已销号"
    assert lookback_campaigns(engine, "测试轮次")["eligible"] == 2
