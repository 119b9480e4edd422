"""The ledger spreadsheet (docs/domain.md, ledger import): its columns, and reading a workbook into rows of plain values
with every problem found at once, each naming its row and column. No database here.

Besides the contract: the header is the first of the top ten rows that has both 序号 and 问题 (so a
title row above it is fine); header text is compared without spaces and `*`; unknown columns are
ignored (an exported ledger's 状态, 灯色 … columns among them); fully empty rows are skipped; blanks
inside names (「张  伟」, aligned by hand) are removed; two optional columns, 需第三方评估 and 是否公开
(是/否), carry the item flags so that an exported ledger re-imports whole. Cells are read as values,
so a formula counts as what Excel last showed for it."""
from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from itertools import chain

from engine.ledger.items import NewItem
from engine.store.models import CATEGORIES


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool = False
    kind: str = "text"  # text / name / category / date / flag
    max_length: int | None = None


COLUMNS = (
    Column("序号", "number", True, max_length=20),
    Column("方面", "aspect", max_length=500),
    Column("问题", "title", True, max_length=500),
    Column("问题描述", "description", max_length=10_000),
    Column("整改类别", "category", True, "category"),
    Column("责任单位", "unit", True, "name", 200),
    Column("责任人", "person", True, "name", 100),
    Column("分管领导", "leader", True, "name", 100),
    Column("整改时限", "deadline", True, "date"),
    Column("完成标准", "standard", max_length=10_000),
    Column("需第三方评估", "third_party", kind="flag"),
    Column("是否公开", "publish", kind="flag"),
)
FLAG_DEFAULTS = {"third_party": False, "publish": True}
YES, NO = "是", "否"
HEADER_SCAN_ROWS = 10
# Bounds that keep reading a file proportional to what it really holds, whatever it claims: a sheet
# declaring A1:XFD1048576 is read cell by cell as written, never as the grid it declares.
MAX_ROWS = 10_000  # problem rows in one file (a round has tens; a province's largest thousands)
MAX_COLUMNS = 100  # columns looked at (the contract has 12; an exported ledger adds 5)
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # the workbook's XML, unpacked (a zip bomb is refused before parsing)
DATE_FORMATS_TEXT = "2022-04-18、2022/4/18、2022年4月18日或 Excel 日期"
_DATE_RE = re.compile(
    r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_FLAGS = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "true": True, "false": False,
          "1": True, "0": False, "√": True, "×": False}
# Excel day numbers of 2000-01-01 and 2099-12-31: a bare number in the date column is taken as a date
# whose formatting was lost only within this range.
_SERIAL_RANGE = (36526, 73050)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file; `row` is the spreadsheet's row number as Excel shows it."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = (f"第{self.row}行" if self.row else "") + (f"「{self.column}」" if self.column else "")
        return f"{where}：{self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "text": str(self)}


@dataclass
class LedgerRow:
    row: int
    item: NewItem


@dataclass
class LedgerSheet:
    rows: list[LedgerRow]
    problems: list[Problem]
    # (row, 序号) of every row that has one, rows with other problems too: the import checks them all
    # against the round in the same pass.
    numbers: list[tuple[int, str]] = field(default_factory=list)


def header_key(value) -> str:
    return re.sub(r"[\s*＊]", "", str(value)) if value is not None else ""


def cell_text(value) -> str:
    """A cell as text: whole numbers without `.0`, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_deadline(value, epoch=None) -> date:
    """An Excel date cell, a day number, or text like 2022-04-18, 2022/4/18, 2022年4月18日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            from openpyxl.utils.datetime import from_excel  # openpyxl loads only where a workbook is read

            return from_excel(value, epoch).date() if epoch else from_excel(value).date()
        raise ValueError(f"无法识别的日期「{cell_text(value)}」，应为{DATE_FORMATS_TEXT}")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(f"无法识别的日期「{text}」，应为{DATE_FORMATS_TEXT}")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f"日期「{text}」不存在") from None


def parse_flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    return _FLAGS.get(unicodedata.normalize("NFKC", cell_text(value)).strip().lower())


def _field_value(column: Column, value, epoch):
    """The cell's value for `column`; ValueError saying what is wrong with it otherwise."""
    if column.kind == "date":
        return parse_deadline(value, epoch)
    if column.kind == "flag":
        flag = parse_flag(value)
        if flag is None:
            raise ValueError(f"应填「{YES}」或「{NO}」，而不是「{cell_text(value)}」")
        return flag
    text = cell_text(value)
    if column.kind == "name":
        text = re.sub(r"\s+", "", text)
    if column.kind == "category" and text not in CATEGORIES:
        raise ValueError(f"未知的整改类别「{text}」，只能是{'、'.join(CATEGORIES)}")
    if column.max_length and len(text) > column.max_length:
        raise ValueError(f"内容过长（{len(text)} 字），最多 {column.max_length} 字")
    return text


def _find_header(rows: list[tuple]) -> tuple[int, tuple]:
    for index, values in enumerate(rows):
        keys = {header_key(v) for v in values}
        if "序号" in keys and "问题" in keys:
            return index, values
    return 0, rows[0] if rows else ()


def _columns_of(header: tuple, header_row: int, problems: list[Problem]) -> dict[str, int]:
    """Column index of each known header; missing required and duplicated headers are problems."""
    from openpyxl.utils import get_column_letter

    positions: dict[str, int] = {}
    by_header = {c.header: c for c in COLUMNS}
    for index, value in enumerate(header):
        key = header_key(value)
        if key not in by_header:
            continue
        if key in positions:
            problems.append(Problem(f"表头重复（{get_column_letter(positions[key] + 1)}列与"
                                    f"{get_column_letter(index + 1)}列）", header_row, key))
            continue
        positions[key] = index
    for column in COLUMNS:
        if column.required and column.header not in positions:
            problems.append(Problem(f"缺少必填列（表头中找不到「{column.header}」）", header_row, column.header))
    return positions


def _read_row(values: tuple, row: int, positions: dict[str, int], epoch, problems: list[Problem]) -> NewItem | None:
    fields, ok = dict(FLAG_DEFAULTS), True
    for column in COLUMNS:
        if column.header not in positions:
            continue
        index = positions[column.header]
        value = values[index] if index < len(values) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            if column.required:
                problems.append(Problem(EMPTY, row, column.header))
                ok = False
            continue
        try:
            fields[column.field] = _field_value(column, value, epoch)
        except ValueError as exc:
            problems.append(Problem(str(exc), row, column.header))
            ok = False
    if not ok or any(c.required and c.field not in fields for c in COLUMNS):  # a required column is missing
        return None
    return NewItem(
        number=fields["number"], title=fields["title"], category=fields["category"], unit=fields["unit"],
        person=fields["person"], leader=fields["leader"], deadline=fields["deadline"],
        aspect=fields.get("aspect") or None, description=fields.get("description", ""),
        standard=fields.get("standard", ""), third_party=fields["third_party"], publish=fields["publish"],
    )


EMPTY = "不能为空"
UNCOMPUTED = "单元格是公式，但文件中没有保存计算结果：请用 Excel 或 WPS 打开并保存后再导入，或改填数值"


def _rows(sheet):
    """The sheet's rows as written in the file (its declared dimensions are ignored), MAX_COLUMNS wide."""
    sheet.reset_dimensions()
    return sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)


def _explain_uncomputed_formulas(data: bytes, positions: dict[str, int], problems: list[Problem]) -> None:
    """A formula cell reads as empty when the file holds no computed value (files written by
    programs rather than Excel or WPS). Only when cells came out empty is the file read a second
    time, with formulas, to say so instead of 不能为空."""
    empty = {(p.row, p.column): n for n, p in enumerate(problems) if p.message == EMPTY and p.row and p.column in positions}
    if not empty:
        return
    wanted = {row for row, _ in empty}
    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(data), read_only=True, data_only=False)
    try:
        for row, values in enumerate(_rows(workbook.worksheets[0]), start=1):
            if row > max(wanted):
                break
            if row not in wanted:
                continue
            for (problem_row, column), n in empty.items():
                index = positions[column]
                value = values[index] if problem_row == row and index < len(values) else None
                if isinstance(value, str) and value.startswith("="):
                    problems[n] = Problem(UNCOMPUTED, row, column)
    finally:
        workbook.close()


def _check_size(data: bytes) -> None:
    """Refuse before parsing a workbook whose XML would unpack to more than MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ValueError("文件不是有效的 Excel 工作簿（.xlsx）") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValueError(f"工作簿解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，不像是问题台账；"
                         "请只保留台账工作表后另存再导入")


def _open_workbook(data: bytes):
    """openpyxl is imported here, not at the top: it adds ~8 MB to a process, and most processes that
    import the engine (web workers, PDF jobs, the timer sweep) never read a workbook."""
    from openpyxl import load_workbook

    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise ValueError("这是旧版 Excel（.xls）或加密的文件，请在 Excel 中另存为 .xlsx 后再导入")
    _check_size(data)
    try:
        return load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — zip, XML and openpyxl errors all mean the same to the user
        raise ValueError("文件不是有效的 Excel 工作簿（.xlsx）") from None


def _blank(values: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_ledger(data: bytes) -> LedgerSheet:
    """Every row of the first sheet as a NewItem, and every problem of the file (all of them). The
    sheet is streamed: memory stays flat however many rows or columns the file declares, and a
    file with more than MAX_ROWS problem rows is refused."""
    problems: list[Problem] = []
    try:
        workbook = _open_workbook(data)
    except ValueError as exc:
        return LedgerSheet([], [Problem(str(exc))])
    parsed: list[LedgerRow] = []
    numbers: list[tuple[int, str]] = []
    try:
        rows = _rows(workbook.worksheets[0])
        top = [values for _, values in zip(range(HEADER_SCAN_ROWS), rows)]
        if not top:
            return LedgerSheet([], [Problem("工作表是空的，第1行应为表头")])
        header_index, header = _find_header(top)
        # Rows are checked with the columns there are even when the header has problems: one pass names them all.
        positions = _columns_of(header, header_index + 1, problems)
        first_row_of: dict[str, int] = {}
        counted = 0
        for index, values in enumerate(chain(top[header_index + 1:], rows), start=header_index + 2):
            if _blank(values):
                continue
            counted += 1
            if counted > MAX_ROWS:
                problems.append(Problem(f"台账超过 {MAX_ROWS} 行，请分成几个文件导入", index))
                break
            item = _read_row(values, index, positions, workbook.epoch, problems)
            number_at = positions.get("序号")
            number = cell_text(values[number_at]) if number_at is not None and number_at < len(values) else ""
            if number and number in first_row_of:
                problems.append(Problem(f"序号「{number}」与第{first_row_of[number]}行重复", index, "序号"))
                continue
            first_row_of.setdefault(number, index)
            if number:
                numbers.append((index, number))
            if item is not None:
                parsed.append(LedgerRow(index, item))
    finally:
        workbook.close()
    if not parsed and not problems:
        problems.append(Problem("台账中没有问题行（表头下方为空）"))
    _explain_uncomputed_formulas(data, positions, problems)
    return LedgerSheet(parsed, problems, numbers)
