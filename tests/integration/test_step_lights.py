"""Every step has its own light: an overdue plan turns its item 黄 long before the item's deadline,
and the inbox, the item page, the dashboard and the ledger export agree; the 问责 step gets its own
period instead of being overdue from birth."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from helpers import DEADLINE, do, new_item, open_tasks, sign
from openpyxl import load_workbook

from engine.ledger.detail import item_detail
from engine.ledger.xlsx.export import export_ledger
from engine.people.directory import user_id_of
from engine.process.timers import tick
from engine.reports.dashboard import dashboard
from engine.store.models import IMMEDIATE, TIME_LIMITED
from engine.work.inbox import InboxFilter, inbox

PLAN = {"measures": "修订审批办法", "milestones": [{"title": "完成修订", "due": "2026-03-01"}]}


def at(engine, day):
    return datetime.combine(day, time(9), ZoneInfo(engine.settings.timezone))


def export_light(engine, item):
    sheet = load_workbook(BytesIO(export_ledger(engine, "测试轮次"))).active
    header = [c.value for c in sheet[1]]
    return next(row[header.index("灯色")] for row in sheet.iter_rows(min_row=2, values_only=True)
                if row[header.index("序号")] == item_detail(engine, item)["number"])


def test_an_overdue_plan_turns_its_item_yellow_before_the_deadline(engine, staffed_round):
    item = new_item(engine, TIME_LIMITED, deadline=DEADLINE + timedelta(days=120))
    [plan] = open_tasks(engine, item)
    plan_due = datetime.fromisoformat(plan["due_date"]).date()
    assert item_detail(engine, item)["light"] in ("绿", "蓝") and plan_due < DEADLINE

    moment = at(engine, plan_due + timedelta(days=3))
    tick(engine, moment)
    with engine.clock.pinned(moment):
        assert item_detail(engine, item)["light"] == "黄"
        assert item_detail(engine, item)["open_tasks"][0]["light"] == "黄"
        [task] = inbox(engine, user_id_of(engine, "张伟"), InboxFilter())["tasks"]
        assert task["light"] == "黄"
        assert dashboard(engine, "测试轮次")["lights"]["黄"] == 1
        assert export_light(engine, item) == "黄"

        plan_data = PLAN | {"planned_completion": (DEADLINE + timedelta(days=100)).isoformat()}
        do(engine, item, "plan_task", "张伟", plan_data)
        sign(engine, item, "plan_approval", "陈刚")
        assert item_detail(engine, item)["light"] == "绿"  # the next step is due at the deadline


def test_the_accountability_step_has_its_own_period(engine, staffed_round):
    item = new_item(engine, IMMEDIATE)
    red = DEADLINE + timedelta(days=35)
    tick(engine, at(engine, red))
    [accountability] = [t for t in open_tasks(engine, item) if t["bpmn_id"] == "accountability_task"]
    with engine.clock.pinned(at(engine, red)):
        assert accountability["due_date"] == (red + timedelta(days=15)).isoformat()
        assert item_detail(engine, item)["light"] == "红"  # the item is 红 by its deadline all the same
