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
