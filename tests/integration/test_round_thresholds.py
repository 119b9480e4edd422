"""A round's own 红黄绿灯 thresholds: its items and steps light by them everywhere, its 问责 comes at its
红 point, and changing them on a running round takes effect at once (lights and waiting 问责 timers)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from helpers import DEADLINE, new_item, open_tasks
from openpyxl import load_workbook
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.ledger.detail import item_detail
from engine.ledger.rounds import get_round, update_round
from engine.ledger.xlsx.export import export_ledger
from engine.people.directory import user_id_of
from engine.process.timers import tick
from engine.reports.dashboard import dashboard
from engine.store.models import IMMEDIATE, AuditEntry
from engine.work.inbox import InboxFilter, inbox


def at(engine, day):
    return datetime.combine(day, time(9), ZoneInfo(engine.settings.timezone))


def lights_everywhere(engine, item) -> set[str]:
    sheet = load_workbook(BytesIO(export_ledger(engine, "测试轮次"))).active
    header = [c.value for c in sheet[1]]
    [exported] = [row[header.index("灯色")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    [task] = inbox(engine, user_id_of(engine, "张伟"), InboxFilter())["tasks"]
    counts = {light for light, n in dashboard(engine, "测试轮次")["lights"].items() if n}
    return {item_detail(engine, item)["light"], task["light"], exported, *counts}


def accountability(engine, item) -> list[dict]:
    return [t for t in open_tasks(engine, item) if t["bpmn_id"] == "accountability_task"]


def test_new_rounds_carry_the_published_defaults(staffed_round):
    assert {k: get_round(staffed_round, "测试轮次")[k] for k in ("blue_days", "yellow_days", "red_days")} == {
        "blue_days": 7, "yellow_days": 0, "red_days": 30}


def test_items_light_and_escalate_by_their_rounds_thresholds(staffed_round):
    engine = staffed_round
    update_round(engine, "测试轮次", {"blue_days": "14", "yellow_days": "14", "red_days": "45"}, actor="周婷")
    item = new_item(engine, IMMEDIATE)
    for days, light in ((-10, "蓝"), (10, "蓝"), (20, "黄")):  # within 14 days before, within the grace, past it
        tick(engine, at(engine, DEADLINE + timedelta(days=days)))
        with engine.clock.pinned(at(engine, DEADLINE + timedelta(days=days))):
            assert lights_everywhere(engine, item) == {light}, days

    tick(engine, at(engine, DEADLINE + timedelta(days=35)))  # red by the defaults, not by this round's
    assert accountability(engine, item) == []
    tick(engine, at(engine, DEADLINE + timedelta(days=46)))
    assert len(accountability(engine, item)) == 1
    with engine.clock.pinned(at(engine, DEADLINE + timedelta(days=46))):
        assert item_detail(engine, item)["light"] == "红"


def test_changing_a_running_rounds_red_point_moves_its_accountability_timers(staffed_round):
    engine = staffed_round
    item = new_item(engine, IMMEDIATE)
    moment = at(engine, DEADLINE + timedelta(days=20))
    tick(engine, moment)
    with engine.clock.pinned(moment):
        update_round(engine, "测试轮次", {"yellow_days": "25", "red_days": "60"}, actor="周婷")
        assert item_detail(engine, item)["light"] == "蓝"  # at once, not at the next tick

    tick(engine, at(engine, DEADLINE + timedelta(days=35)))
    assert accountability(engine, item) == []
    tick(engine, at(engine, DEADLINE + timedelta(days=61)))
    assert len(accountability(engine, item)) == 1
    with engine.db.reading() as session:
        [details] = session.execute(select(AuditEntry.details).where(AuditEntry.action == "round.update")).scalars()
    assert details["thresholds"][1] == {"blue_days": 7, "yellow_days": 25, "red_days": 60}


@pytest.mark.parametrize("changes,field", [
    ({"red_days": "0"}, "red_days"),
    ({"yellow_days": "30"}, "yellow_days"),  # not before 红
    ({"blue_days": "七"}, "blue_days"),
    ({"red_days": "400"}, "red_days"),
])
def test_thresholds_that_make_no_sense_are_refused_and_nothing_changes(staffed_round, changes, field):
    engine = staffed_round
    new_item(engine, IMMEDIATE)
    with pytest.raises(InvalidInput) as refused:
        update_round(engine, "测试轮次", changes | {"report_contact": "电话 12345"}, actor="周婷")
    assert field in refused.value.field_errors
    after = get_round(engine, "测试轮次")
    assert (after["blue_days"], after["yellow_days"], after["red_days"], after["report_contact"]) == (7, 0, 30, "")
