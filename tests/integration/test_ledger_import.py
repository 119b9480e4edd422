"""Importing a ledger .xlsx into a round (docs/domain.md, ledger import), on SQLite and PostgreSQL: a realistic ledger
comes in whole and starts every path; a bad one is refused whole and writes nothing."""
import pytest
from helpers import new_round
from ledger_fixture import ASPECTS, PROBLEMS, deadline_of, expected_name, ledger_rows, ledger_xlsx, workbook_bytes
from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.ledger.items import list_items
from engine.ledger.rounds import get_round, update_round, update_round_report_text
from engine.ledger.xlsx.importing import LedgerRefused, apply_import, preview_import
from engine.store.audit import verify_chain
from engine.store.models import (
    Aspect,
    AuditEntry,
    InboxTask,
    Item,
    ProcessInstance,
    RoleGrant,
    Unit,
    User,
)

ROUND = "测试轮次"
COUNTED = (Item, User, Unit, Aspect, ProcessInstance, InboxTask, RoleGrant, AuditEntry)


def counts(engine) -> dict:
    with engine.db.reading() as session:
        return {t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one() for t in COUNTED}


def test_a_realistic_ledger_comes_in_whole_and_starts_every_path(staffed_round):
    engine = staffed_round
    before = counts(engine)
    plan = preview_import(engine, ROUND, ledger_xlsx())
    assert plan.ok and counts(engine) == before  # a preview writes nothing
    assert len(plan.items) == 25 and plan.new_aspects == ASPECTS
    assert plan.new_units == ["养护管理科", "党建办公室", "质量安全科", "人事科"]
    assert [(p["name"], p["unit"], p["roles"]) for p in plan.new_people] == [
        ("郑凯", "养护管理科", ["责任人"]), ("黄建国", "养护管理科", ["分管领导"]), ("冯雪", "党建办公室", ["责任人"]),
        ("何静", "财务科", ["责任人"]), ("林涛", "质量安全科", ["责任人"]), ("许蕾", "人事科", ["责任人"])]
    assert plan.role_grants == []  # 刘洋 (主要领导) sees every unit already; 吴磊 and 孙浩 keep their roles

    ticks = []
    result = apply_import(engine, ROUND, ledger_xlsx(), actor="周婷", progress=lambda done, total: ticks.append((done, total)))
    assert len(result["created"]) == 25 and ticks[0] == (1, 25) and ticks[-1] == (25, 25)

    items = list_items(engine, ROUND)
    assert len(items) == 25
    for item, (aspect, title, category, unit, person, leader, days, _) in zip(items, PROBLEMS):
        assert (item["aspect"], item["title"], item["category"], item["unit"], item["person"], item["leader"],
                item["deadline"]) == (ASPECTS[aspect], title, category, unit, expected_name(person), leader,
                                      deadline_of(days).isoformat()), item["number"]
    assert [i["number"] for i in items] == [str(n) for n in range(1, 26)]
    with engine.db.reading() as session:
        aspects = session.execute(select(Aspect.title).order_by(Aspect.position)).scalars().all()
        running = session.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.completed.is_(False))).scalar_one()
        with_tasks = session.execute(select(func.count(func.distinct(InboxTask.item_id)))).scalar_one()
        passwords = session.execute(select(User.password_hash).where(User.name.in_(["郑凯", "黄建国", "许蕾"]))).all()
        entry = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
                                .order_by(AuditEntry.id.desc())).first()
        assert verify_chain(session, engine.db.audit_key).ok
    assert aspects == ASPECTS
    assert running == 25 and with_tasks == 25  # every item's path runs and waits for someone
    assert passwords == [(None,)] * 3  # they cannot log in until an admin sets a password
    assert (entry.action, entry.actor, entry.details["items"]) == ("ledger.import", "周婷", 25)


def _bad(mutate):
    rows = ledger_rows()
    header = mutate(rows)
    return workbook_bytes(rows, header) if header else workbook_bytes(rows)


def _unknown_category(rows):
    rows[3]["整改类别"] = "立即整改"


def _bad_date(rows):
    rows[6]["整改时限"] = "2026年13月1日"


def _missing_column(rows):
    return [h for h in ledger_rows()[0] if h != "分管领导"]


def _duplicate_number(rows):
    rows[20]["序号"] = 4


def _empty_cell(rows):
    rows[24]["责任单位"] = None


BAD_LEDGERS = [
    (_unknown_category, ["第6行「整改类别」：未知的整改类别「立即整改」，只能是立行立改、限期整改、长效治理"]),
    (_bad_date, ["第9行「整改时限」：日期「2026年13月1日」不存在"]),
    (_missing_column, ["第2行「分管领导」：缺少必填列（表头中找不到「分管领导」）"]),
    (_duplicate_number, ["第23行「序号」：序号「4」与第6行重复"]),
    (_empty_cell, ["第27行「责任单位」：不能为空"]),
]


def test_bad_ledgers_are_refused_whole_and_write_nothing(staffed_round):
    engine = staffed_round
    cases = [(_bad(mutate), expected) for mutate, expected in BAD_LEDGERS]
    cases.append((b"%PDF-1.4 not a ledger", ["文件不是有效的 Excel 工作簿（.xlsx）"]))
    for data, expected in cases:
        before = counts(engine)
        assert [str(p) for p in preview_import(engine, ROUND, data).problems] == expected
        with pytest.raises(LedgerRefused) as refused:
            apply_import(engine, ROUND, data)
        assert [str(p) for p in refused.value.problems] == expected
        assert counts(engine) == before, expected

    apply_import(engine, ROUND, workbook_bytes(ledger_rows()[:2]))  # now 序号 1 and 2 are taken in the round
    before = counts(engine)
    with pytest.raises(LedgerRefused) as refused:
        apply_import(engine, ROUND, ledger_xlsx())
    assert [str(p) for p in refused.value.problems] == ["第3行「序号」：序号「1」在轮次「测试轮次」中已存在",
                                                        "第4行「序号」：序号「2」在轮次「测试轮次」中已存在"]
    assert counts(engine) == before
    # A row with another problem is checked against the round too, in the same pass.
    rows = ledger_rows()
    rows[0]["整改类别"] = "立即整改"
    with pytest.raises(LedgerRefused) as refused:
        apply_import(engine, ROUND, workbook_bytes(rows))
    assert [(p.row, p.column) for p in refused.value.problems] == [(3, "整改类别"), (3, "序号"), (4, "序号")]

    # All of a file's problems come at once, and the good rows are not imported either.
    rows = ledger_rows()[2:]
    rows[0]["整改类别"], rows[5]["整改时限"], rows[9]["责任人"] = "限期", "下个月", ""
    with pytest.raises(LedgerRefused) as refused:
        apply_import(engine, ROUND, workbook_bytes(rows))
    assert [(p.row, p.column) for p in refused.value.problems] == [(3, "整改类别"), (8, "整改时限"), (12, "责任人")]
    assert "台账未导入：发现 3 处问题，未写入任何数据" in str(refused.value)
    assert counts(engine) == before


def test_round_fields_and_report_text_are_edited_in_place(staffed_round):
    engine = staffed_round
    assert get_round(engine, ROUND)["report_practices"] == ""
    view = update_round_report_text(engine, ROUND, report_practices="一是……\r\n二是……", report_contact="电话 12345",
                                    report_date="2026-12-01", actor="周婷")
    assert (view["report_practices"], view["report_contact"], view["report_date"]) == ("一是……\n二是……", "电话 12345",
                                                                                     "2026-12-01")
    assert update_round_report_text(engine, ROUND, report_date="")["report_date"] is None
    renamed = update_round(engine, ROUND, {"name": "第一轮", "inspection_start": "2026-07-01"})
    assert renamed["name"] == "第一轮" and renamed["report_practices"] == "一是……\n二是……"
    with pytest.raises(InvalidInput, match="不是报告文字字段"):
        update_round_report_text(engine, "第一轮", name="x")
    with pytest.raises(InvalidInput, match="反馈日期"):
        update_round(engine, "第一轮", {"feedback_date": "明天"})
    new_round(engine, "第二轮")
    with pytest.raises(InvalidInput, match="已存在"):
        update_round(engine, "第二轮", {"name": "第一轮"})
