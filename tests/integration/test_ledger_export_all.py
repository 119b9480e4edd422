"""The whole-body ledger export (the problems page's 导出Excel, `rectify ledger export --all`), on SQLite and
PostgreSQL: rows across rounds with 轮次 first and the round export's columns, the list's filters and its
visibility rule, the per-batch facts, and the command line's --all with its errors."""
from io import BytesIO

import pytest
from helpers import TODAY, close_immediate_item, new_item, new_round
from ledger_fixture import ledger_xlsx
from openpyxl import load_workbook
from sqlalchemy import select

from engine.access.items import ItemFilter, export_items_for
from engine.ledger.rounds import get_round
from engine.ledger.xlsx import export
from engine.ledger.xlsx.export import HEADERS, export_all, export_ledger
from engine.people.directory import user_id_of
from engine.store.models import IMMEDIATE, TIME_LIMITED, Unit

FIRST, SECOND = "第一轮", "第二轮"


@pytest.fixture
def two_rounds(cast):
    """Two rounds: 财务科 (张伟) holds items 1 and 2 of the first and 1 of the second, 工程管理科 (王强) item 3
    of the first and 2 of the second; the first round's item 1 is closed (陈刚 signed it off)."""
    new_round(cast, FIRST)
    new_round(cast, SECOND)
    ids = {(FIRST, "1"): new_item(cast, IMMEDIATE, "1", round_name=FIRST),
           (FIRST, "2"): new_item(cast, TIME_LIMITED, "2", round_name=FIRST),
           (FIRST, "3"): new_item(cast, IMMEDIATE, "3", round_name=FIRST, unit="工程管理科", person="王强"),
           (SECOND, "1"): new_item(cast, TIME_LIMITED, "1", round_name=SECOND),
           (SECOND, "2"): new_item(cast, IMMEDIATE, "2", round_name=SECOND, unit="工程管理科", person="王强")}
    close_immediate_item(cast, ids[(FIRST, "1")])
    return cast


def _sheet(name_and_file) -> tuple[str, list[str], list[dict]]:
    name, file = name_and_file
    with file:
        sheet = load_workbook(BytesIO(file.read())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    return name, values[0], [dict(zip(values[0], row)) for row in values[1:]]


def _as(engine, who: str, **filters):
    return _sheet(export_items_for(engine, user_id_of(engine, who), ItemFilter(**filters)))


def test_every_round_with_the_round_exports_columns_and_values(two_rounds):
    engine = two_rounds
    name, header, rows = _as(engine, "周婷")
    assert name == f"问题台账-全部-{TODAY:%Y%m%d}.xlsx"
    assert header == ["轮次"] + HEADERS and header[1:] == [c.value for c in load_workbook(
        BytesIO(export_ledger(engine, FIRST))).active[1]]
    assert [(r["轮次"], r["序号"], r["责任单位"]) for r in rows] == [
        (FIRST, "1", "财务科"), (FIRST, "2", "财务科"), (FIRST, "3", "工程管理科"),
        (SECOND, "1", "财务科"), (SECOND, "2", "工程管理科")]
    closed = rows[0]
    assert (closed["状态"], closed["灯色"], closed["当前环节"], closed["销号日期"], closed["最后签字人"]) == (
        "已销号", "已销号", "已办结", TODAY.isoformat(), "陈刚")
    assert (rows[1]["状态"], rows[1]["当前环节"], rows[1]["最后签字人"]) == ("整改中", "制定整改方案", None)  # an empty cell
    # the same row, cell for cell, as the round's own export: one function writes both
    for round_name in (FIRST, SECOND):
        sheet = load_workbook(BytesIO(export_ledger(engine, round_name))).active
        own = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        assert own == [[r[h] for h in HEADERS] for r in rows if r["轮次"] == round_name]


def test_the_lists_filters_and_visibility_decide_the_rows(two_rounds):
    engine = two_rounds
    second = get_round(engine, SECOND)["id"]
    name, _, rows = _as(engine, "周婷", round_id=second)
    assert name == f"问题台账-{SECOND}-{TODAY:%Y%m%d}.xlsx" and [(r["轮次"], r["序号"]) for r in rows] == [
        (SECOND, "1"), (SECOND, "2")]
    assert [r["问题"] for r in _as(engine, "周婷", search="测试问题3")[2]] == ["测试问题3"]
    assert [(r["轮次"], r["序号"]) for r in _as(engine, "周婷", status="已销号")[2]] == [(FIRST, "1")]
    assert [r["序号"] for r in _as(engine, "周婷", category=TIME_LIMITED)[2]] == ["2", "1"]
    # an officer sees their own unit's items only, whatever the filters ask for
    assert {r["责任单位"] for r in _as(engine, "张伟")[2]} == {"财务科"} and len(_as(engine, "张伟")[2]) == 3
    with engine.db.reading() as session:
        works = session.execute(select(Unit.id).where(Unit.name == "工程管理科")).scalar_one()
    assert _as(engine, "张伟", unit_id=works)[2] == []
    assert [r["序号"] for r in _as(engine, "王强", unit_id=works)[2]] == ["3", "2"]


def test_batches_carry_their_own_facts(two_rounds, monkeypatch):
    """Rows read two at a time (each batch's steps, signers and dues queried for that batch) are the rows
    read all at once."""
    engine = two_rounds
    whole = _as(engine, "周婷")[2]
    monkeypatch.setattr(export, "BATCH", 2)
    assert _as(engine, "周婷")[2] == whole


def test_export_all_writes_every_item_to_a_file(two_rounds, tmp_path):
    out = tmp_path / "全部.xlsx"
    assert export_all(two_rounds, out) == {"rows": 5, "rounds": 2}
    sheet = load_workbook(out).active
    assert sheet.max_row == 6 and sheet["A1"].value == "轮次" and sheet["A6"].value == SECOND
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
    header = [c.value for c in sheet[1]]
    title, unit = (sheet.cell(row=2, column=header.index(h) + 1) for h in ("问题", "责任单位"))
    assert (title.alignment.wrap_text, title.number_format) == (True, "@")  # long text wraps
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:R6"
    assert unit.value == "财务科" and not unit.alignment.wrap_text  # a short value is a plain text cell


def test_the_command_exports_every_round_and_refuses_both_or_neither(cli, tmp_path):
    cli("demo")
    for name in (FIRST, SECOND):
        cli("rounds", "add", name, "--group", "市委第三巡察组", "--body", "市政工程管理处", "--feedback-date", "2026-10-20")
        (tmp_path / "台账.xlsx").write_bytes(ledger_xlsx())
        cli("ledger", "import", tmp_path / "台账.xlsx", "--round", name)
    total = len(cli.json("items", "list"))
    rounds = len({i["round"] for i in cli.json("items", "list")})
    out = tmp_path / "全部.xlsx"
    result = cli.json("ledger", "export", "--all", out)
    assert result == {"id": None, "round": None, "all": True, "file": str(out), "bytes": out.stat().st_size,
                      "rows": total, "rounds": rounds}
    assert total >= 50 and rounds >= 2
    sheet = load_workbook(out).active
    assert sheet.max_row == total + 1 and sheet["A1"].value == "轮次"
    assert {sheet.cell(row=r, column=1).value for r in range(2, total + 2)} >= {FIRST, SECOND}
    assert cli("ledger", "export", "--all", out).output.strip() == (
        f"已导出全部 {rounds} 个轮次的台账（{total} 个问题）到 {out}")
    # the round form, unchanged
    one = cli.json("ledger", "export", "--round", SECOND, out)
    assert set(one) == {"id", "round", "file", "bytes"} and one["round"] == SECOND
    assert load_workbook(out).active.max_row == 26
    for args in (["--all", "--round", SECOND], [], ["--all", "--lists"]):
        refused = cli("ledger", "export", *args, out, ok=False)
        assert refused.exit_code == 1 and refused.output.startswith("错误："), (args, refused.output)
