"""Reading a ledger workbook, without a database: dates, headers, and every problem at once."""
from datetime import date, datetime
from io import BytesIO

import pytest
from ledger_fixture import HEADER, ledger_rows, ledger_xlsx, workbook_bytes
from openpyxl import load_workbook

from engine.ledger.xlsx.sheet import parse_deadline, read_ledger


@pytest.mark.parametrize("value,expected", [
    (datetime(2022, 4, 18), date(2022, 4, 18)),
    (date(2022, 4, 18), date(2022, 4, 18)),
    ("2022-04-18", date(2022, 4, 18)),
    ("2022/4/18", date(2022, 4, 18)),
    ("2022年4月18日", date(2022, 4, 18)),
    (" 2022 年 4 月 8 日 ", date(2022, 4, 8)),
    ("２０２２／４／１８", date(2022, 4, 18)),  # full-width, as some input methods type it
    ("2022.4.18", date(2022, 4, 18)),
    ("2022-04-18 00:00:00", date(2022, 4, 18)),
    (44669, date(2022, 4, 18)),  # a date cell whose date format was lost
])
def test_deadlines_in_every_form_people_type_them(value, expected):
    assert parse_deadline(value) == expected


@pytest.mark.parametrize("value,message", [
    ("明年三月", "无法识别的日期「明年三月」"),
    ("2022-02-30", "日期「2022-02-30」不存在"),
    ("4/18/2022", "无法识别的日期"),
    (2026, "无法识别的日期「2026」"),  # a bare year is not a day number
])
def test_unparseable_deadlines_say_what_was_wrong(value, message):
    with pytest.raises(ValueError, match=message):
        parse_deadline(value)


def test_the_realistic_ledger_reads_whole():
    sheet = read_ledger(ledger_xlsx())
    assert sheet.problems == []
    assert [r.row for r in sheet.rows] == list(range(3, 28))  # a title row above the header
    first = sheet.rows[1].item
    assert (first.number, first.person, first.leader, first.category) == ("2", "郑凯", "黄建国", "限期整改")
    assert first.publish is True and first.third_party is False


def test_columns_are_found_by_header_text_in_any_order():
    header = list(reversed(HEADER))
    sheet = read_ledger(workbook_bytes(ledger_rows()[:3], header, title=None))
    assert sheet.problems == []
    assert [r.item.title for r in sheet.rows] == [row["问题"] for row in ledger_rows()[:3]]


def test_every_problem_of_a_file_is_reported_at_once_with_row_and_column():
    rows = ledger_rows()
    rows[2]["整改类别"] = "立即整改"
    rows[5]["整改时限"] = "明年三月"
    rows[7]["责任人"] = "  "
    rows[9]["序号"] = 3
    rows[11]["问题"] = None
    sheet = read_ledger(workbook_bytes(rows))
    assert [str(p) for p in sheet.problems] == [
        "第5行「整改类别」：未知的整改类别「立即整改」，只能是立行立改、限期整改、长效治理",
        "第8行「整改时限」：无法识别的日期「明年三月」，应为2022-04-18、2022/4/18、2022年4月18日或 Excel 日期",
        "第10行「责任人」：不能为空",
        "第12行「序号」：序号「3」与第5行重复",
        "第14行「问题」：不能为空",
    ]


def test_missing_and_repeated_columns_are_named():
    header = [h for h in HEADER if h not in ("整改时限", "责任单位")] + ["问题"]
    sheet = read_ledger(workbook_bytes(ledger_rows(), header))
    assert [str(p) for p in sheet.problems] == [
        "第2行「问题」：表头重复（C列与J列）",
        "第2行「责任单位」：缺少必填列（表头中找不到「责任单位」）",
        "第2行「整改时限」：缺少必填列（表头中找不到「整改时限」）",
    ]
    assert sheet.rows == []


def test_a_missing_column_does_not_hide_the_problems_of_the_rows():
    rows = ledger_rows()
    rows[5]["整改类别"] = "立即整改"
    rows[9]["序号"] = 3
    header = [h for h in HEADER if h != "整改时限"]
    sheet = read_ledger(workbook_bytes(rows, header))
    assert [str(p) for p in sheet.problems] == [
        "第2行「整改时限」：缺少必填列（表头中找不到「整改时限」）",
        "第8行「整改类别」：未知的整改类别「立即整改」，只能是立行立改、限期整改、长效治理",
        "第12行「序号」：序号「3」与第5行重复",
    ]
    assert sheet.rows == []


def test_a_formula_saved_without_its_value_is_named_as_such():
    """openpyxl, like other programs, writes formulas without computed values (Excel and WPS save both)."""
    workbook = load_workbook(BytesIO(ledger_xlsx()))
    sheet = workbook.active
    column = HEADER.index("整改时限") + 1
    sheet.cell(row=5, column=column).value = "=DATE(2027,1,1)"
    sheet.cell(row=6, column=column).value = None  # and a cell that really is empty
    buffer = BytesIO()
    workbook.save(buffer)
    assert [str(p) for p in read_ledger(buffer.getvalue()).problems] == [
        "第5行「整改时限」：单元格是公式，但文件中没有保存计算结果：请用 Excel 或 WPS 打开并保存后再导入，或改填数值",
        "第6行「整改时限」：不能为空",
    ]


@pytest.mark.parametrize("data,message", [
    (b"not a workbook at all", "文件不是有效的 Excel 工作簿（.xlsx）"),
    (b"PK\x03\x04 truncated zip", "文件不是有效的 Excel 工作簿（.xlsx）"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel（.xls）"),
])
def test_a_file_that_is_not_a_workbook(data, message):
    sheet = read_ledger(data)
    assert len(sheet.problems) == 1 and message in str(sheet.problems[0]) and sheet.rows == []


def test_a_header_without_rows_is_a_problem():
    assert [str(p) for p in read_ledger(workbook_bytes([], title=None)).problems] == ["台账中没有问题行（表头下方为空）"]


def test_flags_and_overlong_cells():
    header = HEADER + ["需第三方评估", "是否公开"]
    rows = ledger_rows()[:3]
    rows[0] |= {"需第三方评估": "是", "是否公开": "否"}
    rows[1] |= {"需第三方评估": "也许"}
    rows[2] |= {"序号": "1" * 21}
    sheet = read_ledger(workbook_bytes(rows, header))
    assert [str(p) for p in sheet.problems] == [
        "第4行「需第三方评估」：应填「是」或「否」，而不是「也许」",
        "第5行「序号」：内容过长（21 字），最多 20 字",
    ]
    assert sheet.rows[0].item.third_party is True and sheet.rows[0].item.publish is False
