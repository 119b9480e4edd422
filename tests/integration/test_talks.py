"""约谈记录: recorded by 纪检监察 or a leader about one or more items; internal — on the item page for
those who see every unit and in the upward report, never in the public one."""
from __future__ import annotations

import pytest
from helpers import TODAY, new_item

from engine.access.items import item_page_for
from engine.errors import Forbidden, InvalidInput
from engine.ledger.talks import record_talk
from engine.people.directory import user_id_of
from engine.reports.progress import progress_report, render_progress_html
from engine.reports.upward import upward_report
from engine.store.models import IMMEDIATE

OUTCOME = "指出整改进度滞后，要求两周内拿出措施"


def test_a_talk_is_internal(engine, staffed_round):
    one, two = new_item(engine, IMMEDIATE, number="1"), new_item(engine, IMMEDIATE, number="2")
    with pytest.raises(Forbidden):
        record_talk(engine, user_id_of(engine, "张伟"), "约谈", TODAY, "王强", OUTCOME, [one])
    with pytest.raises(InvalidInput) as refused:
        record_talk(engine, user_id_of(engine, "吴磊"), "聊天", "昨天", "", "", [])
    assert set(refused.value.field_errors) == {"kind", "held_on", "people", "outcome", "items"}
    record_talk(engine, user_id_of(engine, "吴磊"), "约谈", TODAY, "财务科 张伟", OUTCOME, [one, two])

    assert [t["outcome"] for t in item_page_for(engine, one, user_id_of(engine, "陈刚"))["talks"]] == [OUTCOME]
    assert item_page_for(engine, one, user_id_of(engine, "张伟"))["talks"] == []  # not for the unit's officers
    [section] = [s for s in upward_report(engine, "测试轮次")["sections"] if s["heading"].endswith("约谈和提醒谈话")]
    [row] = section["blocks"][0]["rows"]
    assert row[2:5] == ["约谈", "财务科 张伟", "第1号、第2号"] and row[5] == OUTCOME
    assert OUTCOME not in render_progress_html(progress_report(engine, "测试轮次"))
