"""变更申请 on both databases: asked with a reason, approved or rejected on a sign-off by the right
leader, applied in the approving transaction — the deadline and the 问责 moment, the holders of open
tasks, the category's path, withdrawal — and 转办 of a single task."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import DEADLINE, TODAY, close_immediate_item, do, evidence, new_item, open_tasks, sign

from engine.errors import Conflict, Forbidden, InvalidInput
from engine.ledger.changes import list_changes, request_change
from engine.ledger.detail import item_detail
from engine.people.directory import user_id_of
from engine.process.timers import tick
from engine.reports.dashboard import dashboard
from engine.reports.upward import upward_report
from engine.store.models import IMMEDIATE, LONG_TERM
from engine.work.reassign import reassign_task

LATER = DEADLINE + timedelta(days=40)


def steps(engine, item):
    return sorted(t["bpmn_id"] for t in open_tasks(engine, item))


def ask(engine, item, who="张伟", reason="需协调财政资金，无法按期完成", **wanted):
    return request_change(engine, item, user_id_of(engine, who), reason, **wanted)


def at(engine, day):
    return datetime.combine(day, time(9), ZoneInfo(engine.settings.timezone))


def test_an_approved_extension_moves_the_deadline_the_light_and_the_accountability_moment(engine, item):
    change = ask(engine, item, deadline=LATER.isoformat())
    assert (change["kind"], change["status"], change["approver_role"]) == ("延期", "待审批", "分管领导")
    [approval] = [t for t in open_tasks(engine, item) if t["bpmn_id"] == "leader_approval"]
    assert approval["assignee"] == "陈刚" and approval["step"] == "审批变更"
    sign(engine, item, "leader_approval", "陈刚", "approve", "同意延期")
    detail = item_detail(engine, item)
    assert detail["deadline"] == LATER.isoformat() and steps(engine, item) == ["fix_task"]
    assert [t["due_date"] for t in open_tasks(engine, item)] == [LATER.isoformat()]
    [done] = list_changes(engine, item)
    assert (done["status"], done["decided_by"], done["opinion"]) == ("已批准", "陈刚", "同意延期")
    assert detail["signatures"][-1]["step"] == "审批变更" and detail["signatures"][-1]["signer"] == "陈刚"

    # Past the old 问责 moment: nothing; past the new one: exactly one 问责 task.
    assert tick(engine, at(engine, DEADLINE + timedelta(days=35))).new_tasks == []
    assert item_detail(engine, item)["light"] == "蓝"  # 5 days before the new deadline, not 黄 or 红
    report = tick(engine, at(engine, LATER + timedelta(days=35)))
    assert [t["step"] for t in report.new_tasks] == ["问责处理"]
    assert tick(engine, at(engine, LATER + timedelta(days=36))).new_tasks == []
    assert steps(engine, item) == ["accountability_task", "fix_task"]

    [approved] = [s for s in upward_report(engine, "测试轮次")["sections"] if s["heading"].endswith("经批准的延期和调整")]
    [row] = approved["blocks"][0]["rows"]
    assert f"整改时限由{DEADLINE.isoformat()}改为{LATER.isoformat()}" in row[2] and row[3:5] == ["需协调财政资金，无法按期完成", "陈刚"]
    second = ask(engine, item, deadline=(LATER + timedelta(days=30)).isoformat(), reason="资金仍未到位")
    [record] = [h for h in item_detail(engine, item)["history"] if h["bpmn_id"] == "change_request"][-1:]
    assert record["data"]["extension"] == 2 and "第 2 次申请延期" in record["data"]["summary"]
    assert second["status"] == "待审批"


def test_a_rejected_change_changes_nothing_and_bad_requests_name_the_field(engine, item):
    before = item_detail(engine, item)
    with pytest.raises(InvalidInput) as refused:
        ask(engine, item, deadline=(TODAY - timedelta(days=1)).isoformat(), reason="")
    assert set(refused.value.field_errors) == {"deadline", "reason"}
    with pytest.raises(InvalidInput) as refused:
        ask(engine, item, who="周婷", unit="不存在的科")
    assert "找不到责任单位「不存在的科」" in refused.value.field_errors["unit"]
    with pytest.raises(Forbidden):
        ask(engine, item, who="王强", deadline=LATER.isoformat())  # another unit's officer
    ask(engine, item, deadline=LATER.isoformat())
    with pytest.raises(Conflict):
        ask(engine, item, deadline=LATER.isoformat())  # one pending request at a time
    with pytest.raises(Forbidden):  # the requester cannot approve their own request
        sign(engine, item, "leader_approval", "张伟")
    sign(engine, item, "leader_approval", "陈刚", "reject", "理由不充分")
    after = item_detail(engine, item)
    assert (after["deadline"], after["light"], steps(engine, item)) == (before["deadline"], before["light"], ["fix_task"])
    assert list_changes(engine, item)[0]["status"] == "已退回"


def test_a_category_change_keeps_the_history_and_starts_the_new_path(engine, staffed_round):
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", {"measures": "初步清理", "result": "部分完成", "completed_on": TODAY.isoformat()},
       files=evidence())
    sign(engine, item, "unit_head_review", "李娜", "reject", "需建立长效机制")
    ask(engine, item, who="李娜", category=LONG_TERM, reason="问题涉及制度缺失，需长效治理")
    assert [t["bpmn_id"] for t in open_tasks(engine, item) if t["bpmn_id"].endswith("approval")] == ["head_approval"]
    sign(engine, item, "head_approval", "刘洋", "approve", "同意转为长效治理")
    detail = item_detail(engine, item)
    assert detail["category"] == LONG_TERM and detail["process"]["id"] == "long_term"
    assert steps(engine, item) == ["mechanism_plan"]
    history = [(h["bpmn_id"], h["outcome"]) for h in detail["history"]]
    assert ("fix_task", "completed") in history and ("fix_task", "cancelled") in history
    assert [s["step"] for s in detail["signatures"]] == ["审核", "审批变更（主要领导）"]
    assert detail["signature_chain_ok"]


def test_a_withdrawn_item_leaves_the_open_lists_and_is_not_counted_as_closed(engine, staffed_round):
    items = [new_item(engine, IMMEDIATE, number=str(n)) for n in (1, 2, 3)]
    close_immediate_item(engine, items[0])
    ask(engine, items[1], who="周婷", withdraw=True, reason="与第 3 号问题重复")
    sign(engine, items[1], "head_approval", "刘洋", "approve", "同意撤销")
    detail = item_detail(engine, items[1])
    assert (detail["status"], detail["light"], open_tasks(engine, items[1])) == ("已撤销", "已撤销", [])
    figures = dashboard(engine, "测试轮次")
    assert (figures["total"], figures["closed"], figures["withdrawn"], figures["closing_rate"]) == (2, 1, 1, 0.5)
    with pytest.raises(InvalidInput):
        ask(engine, items[1], deadline=LATER.isoformat())  # a withdrawn item changes no more

    ask(engine, items[2], who="周婷", merge_into="1", reason="与第 1 号问题为同一事项")
    sign(engine, items[2], "head_approval", "刘洋")
    assert item_detail(engine, items[2])["status"] == "已撤销"
    assert list_changes(engine, items[2])[0]["after"]["merge_into"]["number"] == "1"


def test_a_change_of_person_hands_the_open_tasks_on_and_a_task_can_be_reassigned(engine, item):
    ask(engine, item, who="李娜", person="赵敏", unit="工程管理科", reason="职责调整")
    sign(engine, item, "leader_approval", "陈刚")
    detail = item_detail(engine, item)
    assert (detail["unit"], detail["person"]) == ("工程管理科", "赵敏")
    assert [t["assignee"] for t in open_tasks(engine, item)] == ["赵敏"]

    [task] = open_tasks(engine, item)
    with pytest.raises(Forbidden):
        reassign_task(engine, task["id"], "王强", user_id_of(engine, "李娜"), "改由王强办理")  # not her unit now
    with pytest.raises(InvalidInput) as refused:
        reassign_task(engine, task["id"], "张伟", user_id_of(engine, "周婷"), "改由张伟办理")
    assert "不在责任单位工程管理科" in refused.value.field_errors["to"] or "不在责任单位" in refused.value.message
    moved = reassign_task(engine, task["id"], "王强", user_id_of(engine, "周婷"), "赵敏出差")
    assert (moved["from"], moved["to"]) == ("赵敏", "王强")
    assert [t["assignee"] for t in open_tasks(engine, item)] == ["王强"]
    [entry] = [h for h in item_detail(engine, item)["history"] if h["kind"] == "reassign"]
    assert entry["by"] == "周婷" and entry["data"] == {"from": "赵敏", "to": "王强", "reason": "赵敏出差"}
