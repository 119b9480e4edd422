"""督办 on both databases: a notice on several items, each 责任人 replies as a task; an unanswered one goes
to the unit head to chase until the reply comes; the history, notifications, dashboard and upward
report show it."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import PASSWORD, TODAY, evidence, new_item, open_tasks
from helpers import do as complete

from engine.errors import Forbidden, InvalidInput
from engine.ledger.detail import item_detail
from engine.ledger.supervision import issue_notice
from engine.notify.centre import notifications_of
from engine.people.directory import add_user, user_id_of
from engine.process.timers import tick
from engine.reports.dashboard import dashboard
from engine.reports.upward import upward_report
from engine.store.models import IMMEDIATE

DEMAND = "请说明补贴追回进度，本周内报送佐证"


def steps(engine, item):
    return sorted(t["bpmn_id"] for t in open_tasks(engine, item))


def test_a_notice_is_replied_to_or_chased(engine, staffed_round):
    one = new_item(engine, IMMEDIATE, number="1")
    two = new_item(engine, IMMEDIATE, number="2", unit="工程管理科", person="王强")
    due = TODAY + timedelta(days=5)
    with pytest.raises(Forbidden):
        issue_notice(engine, user_id_of(engine, "张伟"), [one], DEMAND, due)
    with pytest.raises(InvalidInput) as refused:
        issue_notice(engine, user_id_of(engine, "周婷"), [], "", TODAY - timedelta(days=1))
    assert set(refused.value.field_errors) == {"demand", "reply_due", "items"}
    notice = issue_notice(engine, user_id_of(engine, "周婷"), [one, two], DEMAND, due)
    assert [r["state"] for r in notice["items"]] == ["待回复", "待回复"]
    assert steps(engine, one) == ["fix_task", "supervision_reply"]
    [told] = [n for n in notifications_of(engine, user_id_of(engine, "张伟"))["notifications"] if n["kind"] == "督办"]
    assert due.isoformat() in told["text"]
    [issued] = [h for h in item_detail(engine, one)["history"] if h["kind"] == "supervision"]
    assert issued["by"] == "周婷" and issued["data"]["demand"] == DEMAND

    complete(engine, one, "supervision_reply", "张伟", {"reply": "已追回 80%，余款下周到账"}, files=evidence())
    tick(engine, datetime.combine(due + timedelta(days=2), time(9), ZoneInfo(engine.settings.timezone)))
    assert steps(engine, one) == ["fix_task"]  # replied: nothing to chase
    assert steps(engine, two) == ["fix_task", "supervision_reply", "supervision_urge"]
    [urge] = [t for t in open_tasks(engine, two) if t["bpmn_id"] == "supervision_urge"]
    assert urge["assignee"] == "赵敏"

    with engine.clock.pinned(datetime.combine(due + timedelta(days=2), time(10), ZoneInfo(engine.settings.timezone))):
        figures = dashboard(engine, "测试轮次")["supervision"]
        assert figures == {"notices": 2, "replied": 1, "overdue": 1}
        [section] = [s for s in upward_report(engine, "测试轮次")["sections"] if s["heading"].endswith("督办情况")]
        [row] = section["blocks"][0]["rows"]
        assert row[2] == DEMAND and "第1号已回复：已追回 80%" in row[5] and "第2号逾期未回复" in row[5]

    complete(engine, two, "supervision_reply", "王强", {"reply": "已补齐档案"})
    assert steps(engine, two) == ["fix_task"]  # the reply ends the chase too


def test_a_leader_supervises_only_the_items_they_lead(engine, staffed_round):
    item = new_item(engine, IMMEDIATE)
    add_user(engine, "黄磊", "处领导班子", ["分管领导"], PASSWORD)
    with pytest.raises(InvalidInput) as refused:
        issue_notice(engine, user_id_of(engine, "黄磊"), [item], DEMAND, TODAY + timedelta(days=3))
    assert "不是您分管的" in next(iter(refused.value.field_errors.values()))
    assert issue_notice(engine, user_id_of(engine, "陈刚"), [item], DEMAND, TODAY + timedelta(days=3))["id"]
