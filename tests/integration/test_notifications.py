"""站内通知 on both databases: written with the change that caused them, once, to the right people,
never to the person acting or to a disabled one."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpers import DEADLINE, FIX, do, evidence, sign

from engine.ledger.changes import request_change
from engine.notify.centre import mark_read, notifications_of
from engine.people.admin import set_active
from engine.people.directory import user_id_of
from engine.process.timers import tick


def inbox_of(engine, name, unread=False):
    return notifications_of(engine, user_id_of(engine, name), unread_only=unread)


def kinds(engine, name):
    return [n["kind"] for n in inbox_of(engine, name)["notifications"]]


def test_the_path_of_an_item_tells_each_person_once(engine, item):
    assert kinds(engine, "张伟") == ["待办"]  # the new item's first step
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    assert kinds(engine, "李娜") == ["待办"] and kinds(engine, "张伟") == ["待办"]  # not told of his own submission
    sign(engine, item, "unit_head_review", "李娜", "reject", "请补充银行回单")
    [returned, _] = inbox_of(engine, "张伟")["notifications"]
    assert returned["kind"] == "退回" and "请补充银行回单" in returned["text"] and returned["task_id"]
    assert kinds(engine, "李娜") == ["待办"]  # the signer is not told of her own 退回

    assert inbox_of(engine, "张伟")["unread"] == 2
    opened = mark_read(engine, user_id_of(engine, "张伟"), returned["id"])
    assert opened["task_open"] and inbox_of(engine, "张伟")["unread"] == 1
    mark_read(engine, user_id_of(engine, "张伟"))
    assert inbox_of(engine, "张伟")["unread"] == 0

    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    # His two notifications name tasks he has done since: the list no longer offers them (去办理)
    assert [n["task_open"] for n in inbox_of(engine, "张伟")["notifications"]] == [False, False]
    assert [n["task_open"] for n in inbox_of(engine, "李娜")["notifications"]] == [True, False]
    sign(engine, item, "unit_head_review", "李娜")
    sign(engine, item, "leader_signoff", "陈刚")
    assert kinds(engine, "张伟")[0] == "销号" and "销号" not in kinds(engine, "陈刚")  # he closed it himself


def test_escalation_a_change_and_a_disabled_person(engine, item):
    set_active(engine, "陈刚", False, actor="孙浩")
    moment = datetime.combine(DEADLINE + timedelta(days=35), time(9), ZoneInfo(engine.settings.timezone))
    tick(engine, moment)
    assert "问责" in kinds(engine, "张伟") and kinds(engine, "陈刚") == []  # disabled: told nothing
    assert kinds(engine, "吴磊") == ["待办"]  # the 问责 task is 纪检监察's pool: its holders are told
    set_active(engine, "陈刚", True, actor="孙浩")

    request_change(engine, item, user_id_of(engine, "张伟"), "资金未到位",
                   deadline=(DEADLINE + timedelta(days=60)).isoformat())
    assert kinds(engine, "陈刚") == ["待办"] and "变更申请" not in "".join(
        n["text"] for n in inbox_of(engine, "张伟")["notifications"] if n["kind"] == "待办")
    sign(engine, item, "leader_approval", "陈刚", "approve", "同意延期")
    texts = {n["kind"]: n["text"] for n in inbox_of(engine, "张伟")["notifications"]}
    assert "延期申请已批准" in texts["变更审批"] and "同意延期" in texts["变更审批"]
    assert "调整为" in texts["时限调整"]


def test_a_holder_is_reminded_once_when_a_task_is_due_soon_and_once_when_overdue(engine, item):
    def reminders():
        return [n["kind"] for n in inbox_of(engine, "张伟")["notifications"] if n["kind"] in ("即将到期", "已超期")]

    zone = ZoneInfo(engine.settings.timezone)
    assert tick(engine, datetime.combine(DEADLINE - timedelta(days=20), time(9), zone)).reminders == 0
    assert tick(engine, datetime.combine(DEADLINE - timedelta(days=5), time(9), zone)).reminders == 1
    assert tick(engine, datetime.combine(DEADLINE - timedelta(days=4), time(9), zone)).reminders == 0
    assert reminders() == ["即将到期"]
    assert tick(engine, datetime.combine(DEADLINE + timedelta(days=1), time(9), zone)).reminders == 1
    assert tick(engine, datetime.combine(DEADLINE + timedelta(days=2), time(9), zone)).reminders == 0
    assert reminders() == ["已超期", "即将到期"]
    assert "已超过期限" in inbox_of(engine, "张伟")["notifications"][0]["text"]
