"""Lists that grow with the body are paged in SQL: 人员管理 (100 a page, searched in the database, the
search kept by the pager). The dashboard's figures at the same size are counted in SQL."""
from __future__ import annotations

import re

from helpers import new_item, new_round
from sqlalchemy import insert, select
from web_session import Auth

from engine.clock import CLOCK
from engine.people.directory import add_user
from engine.reports.dashboard import dashboard
from engine.store.models import IMMEDIATE, Unit, User


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)


def test_the_people_list_pages_and_searches_in_the_database(client, engine):
    add_user(engine, "干部甲", "养护管理科", ["责任人"])
    with engine.db.transaction() as s:  # 230 more people in bulk, in 养护管理科
        unit = s.execute(select(Unit.id).where(Unit.name == "养护管理科")).scalar_one()
        s.execute(insert(User), [{"name": f"干部{n:03d}", "unit_id": unit, "created_at": CLOCK.now()} for n in range(230)])
    Auth(client).login("孙浩")
    first = client.get("/admin/users").get_data(as_text=True)
    assert "共 240 人" in first and "第 1/3 页" in first and len(names(first)) == 100
    last = client.get("/admin/users?page=3").get_data(as_text=True)
    assert len(names(last)) == 40 and "第 3/3 页" in last
    assert "第 3/3 页" in client.get("/admin/users?page=99").get_data(as_text=True)  # past the end: the last page
    found = client.get("/admin/users?q=干部1").get_data(as_text=True)
    assert "共 100 人" in found and len(names(found)) == 100 and "pager" not in found  # 干部100…干部199
    searched = client.get("/admin/users?q=养护").get_data(as_text=True)
    assert "共 231 人" in searched and "第 1/3 页" in searched
    assert re.search(r'rel="next" href="/admin/users\?q=%E5%85%BB%E6%8A%A4&amp;page=2"', searched)
    assert names(client.get("/admin/users?q=100%25").get_data(as_text=True)) == []  # % is not a wildcard


def test_the_dashboard_counts_units_beyond_those_it_lists(auth, client, engine):
    new_round(engine)
    for n in range(1, 36):
        new_item(engine, IMMEDIATE, number=str(n), unit=f"第{n}分部", person=f"干部{n}")
    auth.login("周婷")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "第1分部" in page
    figures = dashboard(engine, None)
    assert figures["units_total"] == 35 and len(figures["by_unit"]) == 30 and figures["total"] == 35
