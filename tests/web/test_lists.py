"""我的待办 and 整改台账 as lists: order, filters, paging, role pools, search."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from helpers import TODAY, new_round
from sqlalchemy import select

from engine.ledger.items import NewItem, add_item
from engine.process.timers import tick
from engine.store.models import IMMEDIATE, TIME_LIMITED, Unit

ROUND = "测试轮次"


def rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"')[1].split("</tbody>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr")[2:]]


def add(engine, number, title, category=IMMEDIATE, unit="财务科", person="张伟", days=60):
    return add_item(engine, ROUND, NewItem(number=number, title=title, category=category, unit=unit, person=person,
                                           leader="陈刚", deadline=TODAY + timedelta(days=days), aspect="（一）测试方面",
                                           description=f"{title}的描述"))["id"]


@pytest.fixture
def round_of_26(engine):
    """测试轮次 with 26 items: 23 立行立改 of 张伟 (due in 10 to 32 days), a 限期整改 of his due soon and one
    overdue, and one of 工程管理科. Gives the engine."""
    new_round(engine)
    for n in range(1, 24):  # 23 立行立改 items for 张伟, deadlines 10..32 days out
        add(engine, str(n), f"财务问题{n}", days=9 + n)
    add(engine, "24", "差旅费报销不规范", TIME_LIMITED, days=3)  # due soon: 蓝
    add(engine, "25", "公务卡使用不规范", TIME_LIMITED, days=-5)  # overdue: 黄
    add(engine, "26", "工程变更未审批", unit="工程管理科", person="王强")
    return engine


def test_inbox_is_most_urgent_first_pages_by_20_and_filters(client, auth, round_of_26):
    auth.login("张伟")
    html = client.get("/inbox").get_data(as_text=True)
    listed = rows(html, "inbox")
    assert len(listed) == 20 and re.search(r'id="inbox-count">25<', html)
    assert "公务卡使用不规范" in listed[0] and "黄" in listed[0]  # overdue first
    assert "差旅费报销不规范" in listed[1] and "蓝" in listed[1]
    assert "财务问题1 " in listed[2] + " "
    second = rows(client.get("/inbox?page=2").get_data(as_text=True), "inbox")
    assert len(second) == 5 and "财务问题23" in second[-1]
    assert not any("工程变更未审批" in r for r in listed + second)  # another unit's task

    limited = rows(client.get(f"/inbox?category={TIME_LIMITED}").get_data(as_text=True), "inbox")
    assert len(limited) == 2 and all(TIME_LIMITED in r for r in limited)
    overdue = rows(client.get("/inbox?light=黄").get_data(as_text=True), "inbox")
    assert len(overdue) == 1 and "公务卡使用不规范" in overdue[0]


def test_a_role_pool_task_reaches_the_roles_holder(client, auth, round_of_26):
    tick(round_of_26, datetime.now(timezone.utc) + timedelta(days=38))  # items 24 and 25 are past deadline + 30 days
    auth.login("吴磊")  # 纪检监察: the 问责 tasks are the role's, not a named person's
    listed = rows(client.get("/inbox").get_data(as_text=True), "inbox")
    assert len(listed) == 2 and all("问责处理" in r and "（纪检监察）" in r for r in listed)
    assert "公务卡使用不规范" in listed[0] and "差旅费报销不规范" in listed[1]  # the older deadline first


def test_ledger_list_filters_and_search(client, auth, round_of_26):
    auth.login("陈刚")  # a leader sees every unit
    everything = rows(client.get("/items").get_data(as_text=True), "items")
    assert len(everything) == 26
    with round_of_26.db.reading() as session:
        engineering = session.execute(select(Unit.id).where(Unit.name == "工程管理科")).scalar_one()
    by_unit = rows(client.get(f"/items?unit={engineering}").get_data(as_text=True), "items")
    assert len(by_unit) == 1 and "工程变更未审批" in by_unit[0]
    by_category = rows(client.get(f"/items?category={TIME_LIMITED}").get_data(as_text=True), "items")
    assert len(by_category) == 2 and all("差旅费报销不规范" in r or "公务卡使用不规范" in r for r in by_category)
    assert len(rows(client.get("/items?light=黄").get_data(as_text=True), "items")) == 1
    assert len(rows(client.get("/items?status=整改中").get_data(as_text=True), "items")) == 26
    found = rows(client.get("/items?q=公务卡").get_data(as_text=True), "items")
    assert len(found) == 1 and "公务卡使用不规范" in found[0]
    assert len(rows(client.get("/items?q=差旅费报销不规范的描述").get_data(as_text=True), "items")) == 1  # description
    assert "没有符合条件的问题" in client.get("/items?q=不存在的问题").get_data(as_text=True)
