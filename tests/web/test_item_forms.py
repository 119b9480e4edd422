"""整改办 adds an item and edits what needs no approval, through the test client."""
import pytest
from helpers import new_item, new_round
from web_session import Auth, csrf_token

from engine.ledger.detail import item_detail
from engine.ledger.items import list_items
from engine.ledger.rounds import get_round
from engine.store.models import IMMEDIATE


@pytest.fixture
def round_id(engine):
    new_round(engine)
    return get_round(engine, "测试轮次")["id"]


def post(client, url, form):
    return client.post(url, data=form | {"csrf_token": csrf_token(client, "/inbox")})


def test_the_office_adds_an_item_and_bad_fields_are_named(client, engine, round_id):
    Auth(client).login("周婷")
    assert 'id="new-item"' in client.get("/items").get_data(as_text=True)
    form = {"round_id": str(round_id), "number": "7", "title": "公务用车管理不规范", "category": "立行立改",
            "unit": "财务科", "person": "张伟", "leader": "陈刚", "deadline": "下月", "publish": "1"}
    bad = post(client, "/items/new", form)
    assert bad.status_code == 400 and "「整改时限」应为 YYYY-MM-DD" in bad.get_data(as_text=True)
    bad = post(client, "/items/new", form | {"deadline": "2027-03-01", "category": "", "title": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "「整改类别」只能是" in html and "「问题」不能为空" in html
    assert list_items(engine, "测试轮次") == []
    created = post(client, "/items/new", form | {"deadline": "2027-03-01", "aspect": "（二）车辆管理"})
    assert created.status_code == 302
    [item] = list_items(engine, "测试轮次")
    assert (item["number"], item["aspect"], item["publish"]) == ("7", "（二）车辆管理", True)
    assert [t["bpmn_id"] for t in item_detail(engine, item["id"])["open_tasks"]] == ["fix_task"]


def test_the_office_edits_what_needs_no_approval_and_others_cannot(client, engine, round_id):
    item = new_item(engine, IMMEDIATE)
    Auth(client).login("张伟")
    assert 'id="edit-item"' not in client.get(f"/items/{item}").get_data(as_text=True)
    assert client.get(f"/items/{item}/edit").status_code == 403
    assert client.get("/items/new").status_code == 403
    Auth(client).logout()
    Auth(client).login("周婷")
    saved = post(client, f"/items/{item}/edit", {"description": "补充：涉及 3 人", "standard": "全部追回",
                                                "aspect": "（一）测试方面", "publish": ""})
    assert saved.status_code == 302
    detail = item_detail(engine, item)
    assert (detail["description"], detail["standard"], detail["publish"]) == ("补充：涉及 3 人", "全部追回", False)
    too_long = post(client, f"/items/{item}/edit", {"description": "长" * 5001, "publish": "1"})
    assert too_long.status_code == 400 and "「问题描述」最多 5000 字" in too_long.get_data(as_text=True)
    assert item_detail(engine, item)["publish"] is False  # nothing of the refused edit was written
