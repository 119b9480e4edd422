"""变更申请 and 转办 through the test client: who sees the buttons, bad input named in Chinese with
nothing written, the approval as an ordinary sign-off, the item page after it."""
import re
from datetime import timedelta

import pytest
from helpers import DEADLINE, PASSWORD, new_item, new_round
from web_session import Auth, csrf_token

from engine.ledger.changes import list_changes
from engine.ledger.detail import item_detail
from engine.store.models import IMMEDIATE

LATER = (DEADLINE + timedelta(days=30)).isoformat()


@pytest.fixture
def item(engine):
    new_round(engine)
    return new_item(engine, IMMEDIATE)


def post(client, url, form):
    return client.post(url, data=form | {"csrf_token": csrf_token(client, "/inbox")})


def test_an_officer_asks_for_an_extension_and_the_leader_approves_it(client, engine, item):
    Auth(client).login("张伟")
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert 'id="request-change"' in page and "转办</summary>" not in page  # an officer cannot hand tasks on
    url = f"/items/{item}/change"
    bad = post(client, url, {"kind": "extend", "deadline": "2020-01-01", "reason": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "「新整改时限」不能早于今天" in html and "「理由」不能为空" in html
    assert list_changes(engine, item) == []
    assert post(client, url, {"kind": "extend", "deadline": LATER, "reason": "资金未到位", "person": "王强"}).status_code == 302
    [change] = list_changes(engine, item)
    assert change["after"] == {"deadline": LATER}  # a field of another kind, left filled in, is ignored
    assert "待分管领导审批" in client.get(f"/items/{item}").get_data(as_text=True)

    Auth(client).logout()
    Auth(client).login("陈刚")
    signoff = client.get(f"/tasks/{change['task_id']}").get_data(as_text=True)
    assert "变更申请" in signoff and "资金未到位" in signoff and LATER in signoff
    done = post(client, f"/tasks/{change['task_id']}", {"decision": "approve", "opinion": "同意", "password": PASSWORD})
    assert done.status_code in (302, 303)
    assert item_detail(engine, item)["deadline"] == LATER
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "已批准" in page and f"整改时限由{DEADLINE.isoformat()}改为{LATER}" in page


def test_the_unit_head_hands_a_task_on_within_the_unit(client, engine, item):
    Auth(client).login("李娜")
    page = client.get(f"/items/{item}").get_data(as_text=True)
    [task_id] = re.findall(r'action="/tasks/([0-9a-f-]{36})/reassign"', page)
    refused = post(client, f"/tasks/{task_id}/reassign", {"item_id": item, "to": "王强", "reason": "出差"})
    assert refused.status_code == 302
    assert "不在责任单位财务科" in client.get(f"/items/{item}").get_data(as_text=True)
    assert [t["assignee"] for t in item_detail(engine, item)["open_tasks"]] == ["张伟"]
    Auth(client).logout()
    Auth(client).login("周婷")
    post(client, f"/tasks/{task_id}/reassign", {"item_id": item, "to": "李娜", "reason": "张伟出差"})
    assert "李娜" in client.get(f"/items/{item}").get_data(as_text=True)
    Auth(client).logout()
    Auth(client).login("王强")  # another unit's officer: neither the item nor its tasks
    assert post(client, f"/tasks/{task_id}/reassign", {"item_id": item, "to": "张伟", "reason": "x"}).status_code == 403
