"""A plan may not finish after the item's deadline (the form says 不得晚于整改时限): it is refused,
naming the field, and nothing is written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import DEADLINE, do, new_item, open_tasks

from engine.errors import InvalidInput
from engine.store.models import TIME_LIMITED

PLAN = {"measures": "修订报销审核制度", "milestones": [{"title": "完成制度修订", "due": DEADLINE.isoformat()}]}


def test_a_plan_ending_after_the_deadline_is_refused(engine, staffed_round):
    item = new_item(engine, TIME_LIMITED)
    late = (DEADLINE + timedelta(days=39)).isoformat()
    with pytest.raises(InvalidInput) as refused:
        do(engine, item, "plan_task", "张伟", PLAN | {"planned_completion": late})
    assert "不得晚于整改时限" in refused.value.field_errors["planned_completion"]
    assert DEADLINE.isoformat() in refused.value.field_errors["planned_completion"]
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["plan_task"]  # nothing moved
    do(engine, item, "plan_task", "张伟", PLAN | {"planned_completion": DEADLINE.isoformat()})  # on the day: fine
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["plan_approval"]


def test_third_party_evaluation_is_refused_where_the_path_has_no_such_step(engine, staffed_round):
    from ledger_fixture import ledger_rows, workbook_bytes

    from engine.ledger.items import NewItem, add_item
    from engine.ledger.xlsx.importing import preview_import
    from engine.store.models import IMMEDIATE, LONG_TERM

    for category in (IMMEDIATE, LONG_TERM):
        with pytest.raises(InvalidInput) as refused:
            add_item(engine, "测试轮次", NewItem(number=f"x-{category}", title="问题", category=category, unit="财务科",
                                               person="张伟", leader="陈刚", deadline=DEADLINE, third_party=True))
        assert "第三方评估" in refused.value.field_errors["third_party"]
    new_item(engine, TIME_LIMITED, number="tp", third_party=True)  # its path has the step
    rows = ledger_rows()[:9]
    rows[8]["需第三方评估"] = "是"  # 序号 9 is 立行立改
    [problem] = preview_import(engine, "测试轮次", workbook_bytes(rows, list(rows[0]) + ["需第三方评估"])).problems
    assert (problem.row, problem.column) == (11, "需第三方评估") and "立行立改" in problem.message
