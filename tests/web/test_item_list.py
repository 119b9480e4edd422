"""整改台账 at scale: the list pages in SQL (50 a page, with the total), its filters and search (问题,
描述, 序号, 责任单位, 责任人) run in the database, and a search text is matched literally."""
from __future__ import annotations

import re

from helpers import new_item, new_round

from engine.store.models import IMMEDIATE, TIME_LIMITED


def rows(html: str) -> list[str]:
    return re.findall(r'<a href="/items/\d+">([^<]+)</a>', html)


def test_the_ledger_pages_and_searches_in_the_database(auth, client, engine):
    new_round(engine)
    for n in range(1, 56):
        new_item(engine, IMMEDIATE if n % 2 else TIME_LIMITED, number=str(n),
                 **({"unit": "工程管理科", "person": "王强"} if n % 5 == 0 else {}))
    auth.login("周婷")
    first = client.get("/items").get_data(as_text=True)
    assert 'id="items-total">共 55 项' in first and "第 1/2 页" in first and len(rows(first)) == 50
    assert rows(first)[:2] == ["测试问题1", "测试问题2"]
    second = client.get("/items?page=2").get_data(as_text=True)
    assert rows(second) == [f"测试问题{n}" for n in range(51, 56)] and "第 2/2 页" in second
    assert rows(client.get("/items?page=99").get_data(as_text=True)) == rows(second)  # past the end: the last page

    by_unit = client.get("/items?q=工程管理").get_data(as_text=True)
    assert 'id="items-total">共 11 项' in by_unit and "pager" not in by_unit
    assert len(rows(client.get("/items?q=王强").get_data(as_text=True))) == 11
    assert rows(client.get("/items?q=测试问题7").get_data(as_text=True)) == ["测试问题7"]
    filtered = client.get(f"/items?q=王强&category={TIME_LIMITED}").get_data(as_text=True)
    assert 'id="items-total">共 5 项' in filtered
    # The next page keeps the filters.
    kept = client.get("/items?status=整改中").get_data(as_text=True)
    assert re.search(r'rel="next" href="/items\?status=%E6%95%B4%E6%94%B9%E4%B8%AD&amp;page=2"', kept), kept[-1500:]
    assert rows(client.get("/items?q=100%25").get_data(as_text=True)) == []  # % is not a wildcard


def test_the_dashboard_lists_the_most_overdue_and_links_to_all(auth, client, engine):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from helpers import DEADLINE

    new_round(engine)
    for n in range(1, 56):
        new_item(engine, IMMEDIATE, number=str(n), deadline=DEADLINE + timedelta(days=n % 7),
                 **({"unit": "工程管理科", "person": "王强"} if n % 5 == 0 else {}))
    later = datetime.combine(DEADLINE + timedelta(days=20), time(9), ZoneInfo(engine.settings.timezone))
    with engine.clock.pinned(later):
        auth.login("周婷")
        page = client.get("/dashboard").get_data(as_text=True)
        assert 'id="overdue-total">55<' in page and page.count('class="text-end fw-semibold text-danger days-overdue"') == 50
        assert "列出超期最久的 50 项；查看全部 55 项" in page and "overdue=1" in page
        listed = client.get("/items?overdue=1").get_data(as_text=True)
        assert 'id="items-total">共 55 项' in listed and "只看已超期的问题" in listed
        assert 'id="items-total">共 0 项' in client.get("/items?overdue=1&status=已销号").get_data(as_text=True)
        auth.logout()
        auth.login("王强")  # an officer: the overdue list of their own unit
        own = client.get("/dashboard").get_data(as_text=True)
        assert 'id="overdue-total">11<' in own and "测试问题5<" in own and "测试问题1<" not in own
