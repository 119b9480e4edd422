"""One database session per request: a page loads, checks and reads in one unit of work (the login
loader, which also counts the navigation bar's 待办, is the other). And the closing sign-off answers
before its 销号单 exists: the item page says the record is being made until it is."""
from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from helpers import FIX, PASSWORD, close_immediate_item, do, evidence, new_item, new_round, sign, task_id
from sqlalchemy import event
from web_session import Auth, csrf_token

from engine.closure import signing
from engine.closure.records import RecordOnClose
from engine.store.models import IMMEDIATE
from web import create_app


@pytest.fixture
def item(engine):
    new_round(engine)
    return new_item(engine, IMMEDIATE)


class Transactions:
    """Counts the transactions a block of code begins on the engine's database."""

    def __init__(self, engine):
        self.sql_engine, self.count = engine.db.engine, 0

    def _begin(self, _connection):
        self.count += 1

    def __enter__(self):
        event.listen(self.sql_engine, "begin", self._begin)
        return self

    def __exit__(self, *_):
        event.remove(self.sql_engine, "begin", self._begin)


@pytest.mark.parametrize("who", ["张伟", "陈刚"])
def test_an_item_page_takes_at_most_two_transactions(client, auth, engine, item, who):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    auth.login(who)
    with Transactions(engine) as transactions:
        page = client.get(f"/items/{item}")
    assert page.status_code == 200 and "测试问题1" in page.get_data(as_text=True)
    assert transactions.count <= 2


def test_a_closed_items_page_with_its_record_takes_at_most_two_transactions(client, auth, engine, item):
    signing.init_dev_certificate(engine, "市政工程管理处")
    close_immediate_item(engine, item)
    auth.login("李娜")
    with Transactions(engine) as transactions:
        page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "下载销号单" in page and transactions.count <= 2


@pytest.mark.parametrize("path", ["/inbox", "/items", "/dashboard"])
def test_list_pages_take_at_most_two_transactions(client, auth, engine, item, path):
    auth.login("陈刚")
    with Transactions(engine) as transactions:
        assert client.get(path).status_code == 200
    assert transactions.count <= 2


def test_the_closing_sign_off_answers_before_the_record_is_made(engine, item):
    """The web app handles events on a background thread: the leader's sign-off returns at once,
    the page says the record is being made, and moments later it is there."""
    signing.init_dev_certificate(engine, "市政工程管理处")
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": replace(engine.settings, outbox_dispatch="thread")})
    web_engine = app.extensions["rectify"]
    client = app.test_client()
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜")
    gate = task_id(engine, item, "leader_signoff")

    release, prepare = threading.Event(), RecordOnClose.prepare

    def slow_prepare(self, eng, evt):
        release.wait(60)  # WeasyPrint taking its time
        return prepare(self, eng, evt)

    RecordOnClose.prepare = slow_prepare
    try:
        Auth(client).login("陈刚")
        signed = client.post(f"/tasks/{gate}", data={"decision": "approve", "opinion": "同意销号", "password": PASSWORD,
                                                      "csrf_token": csrf_token(client, f"/tasks/{gate}")})
        assert signed.status_code == 302
        waiting = client.get(f"/items/{item}").get_data(as_text=True)
        assert "已销号" in waiting and "销号单正在生成" in waiting and "下载销号单" not in waiting
    finally:
        release.set()
        RecordOnClose.prepare = prepare
    web_engine.outbox.wait_idle()
    done = client.get(f"/items/{item}").get_data(as_text=True)
    assert "下载销号单" in done and "销号单正在生成" not in done
    web_engine.close()
