"""方面: 整改办 adds, renames, reorders and removes (empty) aspects — all or nothing."""
import pytest
from helpers import DEADLINE, new_round, people
from sqlalchemy import select

from engine.access.rounds import round_for
from engine.errors import InvalidInput
from engine.ledger.aspects import AspectEdit, edit_aspects, list_aspects
from engine.ledger.items import NewItem, add_item
from engine.people.directory import user_id_of
from engine.store.models import IMMEDIATE, AuditEntry

ROUND = "测试轮次"


@pytest.fixture
def round_with_aspects(engine):
    people(engine)
    new_round(engine)
    for number, aspect in (("1", "（一）学习贯彻不到位"), ("2", "（二）财务管理不规范"), ("3", None)):
        add_item(engine, ROUND, NewItem(number=number, title=f"问题{number}", category=IMMEDIATE, unit="财务科",
                                        person="张伟", leader="陈刚", deadline=DEADLINE, aspect=aspect))
    edit_aspects(engine, ROUND, [AspectEdit(None, "（三）空的方面")])
    return engine


def titles(engine):
    return [(a["position"], a["title"], a["item_count"]) for a in list_aspects(engine, ROUND)]


def test_add_rename_swap_reorder_and_remove_an_empty_aspect(round_with_aspects):
    engine = round_with_aspects
    first, second, empty = (a["id"] for a in list_aspects(engine, ROUND))
    edit_aspects(engine, ROUND, [
        AspectEdit(first, "（二）财务管理不规范", position=2),  # the two titles swap...
        AspectEdit(second, "（一）学习贯彻不到位", position=1),  # ...and so do their places
        AspectEdit(empty, "（三）空的方面", delete=True),
        AspectEdit(None, "（三）意识形态工作不到位"),  # new, at the end
        AspectEdit(None, "   "),  # the form's blank row
    ], actor="周婷")
    assert titles(engine) == [(1, "（一）学习贯彻不到位", 1), (2, "（二）财务管理不规范", 1), (3, "（三）意识形态工作不到位", 0)]
    with engine.db.reading() as session:
        actor, details = session.execute(select(AuditEntry.actor, AuditEntry.details)
                                         .where(AuditEntry.action == "round.aspects").order_by(AuditEntry.id.desc())).first()
    assert actor == "周婷" and details["removed"] == ["（三）空的方面"] and details["added"] == ["（三）意识形态工作不到位"]
    assert details["renamed"] == [["（一）学习贯彻不到位", "（二）财务管理不规范"], ["（二）财务管理不规范", "（一）学习贯彻不到位"]]
    # The round page lists every aspect, the new empty one too, then the items without one.
    shown = round_for(engine, user_id_of(engine, "周婷"), 1)["aspects"]
    assert [(a["title"], a["total"]) for a in shown] == [
        ("（一）学习贯彻不到位", 1), ("（二）财务管理不规范", 1), ("（三）意识形态工作不到位", 0), ("（未分方面）", 1)]


def test_every_wrong_row_is_named_and_nothing_changes(round_with_aspects):
    engine = round_with_aspects
    first, second, empty = (a["id"] for a in list_aspects(engine, ROUND))
    before = titles(engine)
    with pytest.raises(InvalidInput) as refused:
        edit_aspects(engine, ROUND, [
            AspectEdit(first, "", delete=False),
            AspectEdit(second, "（二）财务管理不规范", delete=True),
            AspectEdit(empty, "（三）空的方面", position=1),
            AspectEdit(None, "（三）空的方面"),
        ])
    assert refused.value.field_errors == {
        f"aspect-{first}": "方面名称不能为空",
        f"aspect-{second}": "「（二）财务管理不规范」下还有 1 个问题，不能删除",
        "new": "与另一个方面重名：「（三）空的方面」",
    }
    assert titles(engine) == before


def test_an_unknown_aspect_is_not_found(round_with_aspects):
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        edit_aspects(round_with_aspects, ROUND, [AspectEdit(9999, "x")])
