"""Searching the ledger (engine/ledger/search.py): by 问题, 描述, 序号, 责任单位 and 责任人, two Chinese
characters included; on PostgreSQL a search of three characters or more uses the trigram index of
migration 0023 at a realistic size, whatever the connection's search_path (the run's own schema), and
the indexes exist on both databases."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from helpers import DEADLINE, PASSWORD, new_round
from sqlalchemy import func, insert, select, text

from engine.access.items import ItemFilter, items_for
from engine.ledger.indexes import TRIGRAM_INDEXES
from engine.ledger.items import NewItem, add_item
from engine.ledger.search import matching_items
from engine.people.directory import add_user, user_id_of
from engine.store.models import IMMEDIATE, OFFICE, Item, Round, Unit, User


def _titles(engine, user_id, text) -> list[str]:
    return [i["title"] for i in items_for(engine, user_id, ItemFilter(search=text))["items"]]


def test_search_finds_an_item_by_each_field(engine):
    add_user(engine, "周婷", "整改办", [OFFICE], PASSWORD)
    new_round(engine)
    for number, title, description, unit, person in (
            ("1", "违规发放津贴补贴", "巡察发现向职工发放过节费", "财务科", "张伟"),
            ("2", "工程变更审批程序不规范", "部分变更未经集体研究", "工程管理科", "王强"),
            ("13", "公务用车使用管理不规范", "车辆派遣登记不全", "办公室", "孙浩")):
        add_item(engine, "测试轮次", NewItem(number=number, title=title, description=description, unit=unit,
                                            person=person, leader="陈刚", category=IMMEDIATE, deadline=DEADLINE))
    office = user_id_of(engine, "周婷")
    assert _titles(engine, office, "津贴") == ["违规发放津贴补贴"]  # two characters of 问题
    assert _titles(engine, office, "集体研究") == ["工程变更审批程序不规范"]  # 描述
    assert _titles(engine, office, "13") == ["公务用车使用管理不规范"]  # 序号 (exact), also no 描述 has it
    assert _titles(engine, office, "工程管理") == ["工程变更审批程序不规范"]  # 责任单位
    assert _titles(engine, office, "孙浩") == ["公务用车使用管理不规范"]  # 责任人, two characters
    assert _titles(engine, office, "不规范") == ["工程变更审批程序不规范", "公务用车使用管理不规范"]
    assert _titles(engine, office, "不_范") == [] and _titles(engine, office, "%") == []  # taken literally


def test_the_search_indexes_exist_where_they_can_answer(engine):
    """Trigram indexes on PostgreSQL (SQLite has none: it scans); the person index on both."""
    trigram = {name for name, _ in TRIGRAM_INDEXES}
    with engine.db.engine.connect() as conn:
        if engine.db.is_sqlite:
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
            assert "ix_items_person_id" in names and not trigram & names
        else:
            names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
                        .scalars())
            assert trigram | {"ix_items_person_id"} <= names


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SQLite has no trigram index: LIKE '%…%' scans there
def test_postgres_answers_a_substring_search_from_the_trigram_indexes(engine):
    new_round(engine)
    now = datetime.now(timezone.utc)
    with engine.db.transaction() as s:  # 20,000 items in bulk, as the scale benchmark has them
        round_id = s.execute(select(Round.id)).scalar_one()
        s.execute(insert(Unit), [{"name": f"第{n}分部"} for n in range(400)])
        units = s.execute(select(Unit.id)).scalars().all()
        s.execute(insert(User), [{"name": f"干部{n:04d}", "unit_id": units[n % len(units)], "created_at": now}
                                 for n in range(2_000)])
        users = s.execute(select(User.id)).scalars().all()
        words = ["津贴", "工程", "审批", "车辆", "档案", "招标", "资金", "资产", "党费", "干部"]
        s.execute(insert(Item), [
            {"round_id": round_id, "number": str(n), "title": f"{words[n % 10]}{words[n // 10 % 10]}问题{n}号",
             "description": f"巡察发现{words[n // 100 % 10]}方面第{n}项情况", "category": IMMEDIATE,
             "unit_id": units[n % len(units)], "person_id": users[n % len(users)], "leader_id": users[0],
             "deadline": DEADLINE, "created_at": now} for n in range(20_000)])
    with engine.db.engine.begin() as conn:
        conn.execute(text("ANALYZE items; ANALYZE units; ANALYZE users"))

        def plan(query) -> str:
            compiled = query.compile(conn)
            return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))

        by_title = select(func.count()).select_from(Item).where(matching_items("问题12345号", postgres=True))
        # The planner takes a trigram index where it is cheaper than a scan: 问题 of 20,000 items here (the
        # units and people, a few thousand short rows, it reads whole; 描述 as its statistics say).
        assert "Bitmap Index Scan on ix_items_title_trgm" in plan(by_title), plan(by_title)
        assert conn.execute(by_title).scalar_one() == 1
        by_person = select(func.count()).select_from(Item).where(matching_items("干部0123", postgres=True))
        assert "ix_items_person_id" in plan(by_person), plan(by_person)
        assert conn.execute(by_person).scalar_one() == 10
