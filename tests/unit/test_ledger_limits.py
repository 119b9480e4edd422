"""A ledger file is read in proportion to what it holds, not what it claims: a 2 KB file declaring a
sheet of 20,000 × 16,384 cells, a file of too many rows, an over-long cell and a zip bomb are each
refused or read with flat memory, with a message naming the row and column."""
from __future__ import annotations

import re
import tracemalloc
import zipfile
from io import BytesIO

from ledger_fixture import ledger_rows, workbook_bytes

from engine.ledger.xlsx import sheet as ledger_sheet
from engine.ledger.xlsx.sheet import MAX_ROWS, read_ledger


def _rewrite_sheet(data: bytes, change) -> bytes:
    source, target = zipfile.ZipFile(BytesIO(data)), BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            out.writestr(info, content)
    return target.getvalue()


def _peak_mib(function) -> tuple[object, float]:
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_a_sheet_that_claims_a_huge_size_is_read_as_written():
    data = _rewrite_sheet(workbook_bytes(ledger_rows()[:3]),
                          lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD20001"', xml))
    assert len(data) < 10_000
    sheet, peak = _peak_mib(lambda: read_ledger(data))
    assert sheet.problems == [] and len(sheet.rows) == 3
    assert peak < 30  # the declared grid would be 2.5 GB


def test_a_far_away_cell_does_not_widen_every_row():
    data = _rewrite_sheet(workbook_bytes(ledger_rows()[:3]), lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048000"><c r="XFD1048000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    sheet, peak = _peak_mib(lambda: read_ledger(data))
    assert len(sheet.rows) == 3 and peak < 30


def test_too_many_rows_are_refused_naming_where(monkeypatch):
    monkeypatch.setattr(ledger_sheet, "MAX_ROWS", 20)
    rows = (ledger_rows() * 2)[:21]
    for n, row in enumerate(rows, start=1):
        row["序号"] = n
    sheet = read_ledger(workbook_bytes(rows))
    [problem] = [p for p in sheet.problems if "超过" in p.message]
    assert "20 行" in problem.message and problem.row == 23  # the title row, the header, then the 21st problem
    assert MAX_ROWS == 10_000


def test_an_over_long_description_is_named_by_row_and_column():
    rows = ledger_rows()[:2]
    rows[1]["问题描述"] = "很长" * 6_000
    [problem] = read_ledger(workbook_bytes(rows)).problems
    assert (problem.row, problem.column) == (4, "问题描述") and "最多 10000 字" in problem.message


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (120 * 1024 * 1024) + b">")
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    [problem] = read_ledger(data).problems
    assert "解压后超过" in problem.message
