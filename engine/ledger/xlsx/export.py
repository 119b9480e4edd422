"""Ledger export (docs/domain.md, documents): the import columns plus 状态, 灯色, 当前环节, 销号日期, 最后签字人, as .xlsx.

Every cell is written as text (and formatted as text), so a title like `=SUM(A1)` stays text in Excel
instead of becoming a live formula; dates are YYYY-MM-DD text, which the import reads back. The light
is today's (from the deadline, the most pressing open step and the clock), as `tick` would set it."""
from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from engine.clock import CLOCK
from engine.ledger.items import ITEM_LOAD_OPTIONS
from engine.ledger.round_facts import current_step, earliest_dues, last_signers, open_steps, running_items
from engine.ledger.rounds import find_round
from engine.ledger.xlsx.sheet import COLUMNS, NO, YES
from engine.store.models import Item

if TYPE_CHECKING:
    from engine.core import Engine

STATUS_COLUMNS = ("状态", "灯色", "当前环节", "销号日期", "最后签字人")
WIDTHS = {"序号": 6, "方面": 28, "问题": 32, "问题描述": 40, "完成标准": 30, "当前环节": 20, "整改时限": 12,
          "销号日期": 12}
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
HEADER_FONT = Font(bold=True)
WRAP = Alignment(vertical="top", wrap_text=True)


def _text(value) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)) if value is not None else ""


def write_sheet(workbook: Workbook, title: str, headers: list[str], rows, widths: dict[str, int]) -> None:
    """Add a sheet to a write-only `workbook`: a bold, frozen, filterable header and `rows` (any iterable:
    rows stream to the file, so a 20,000-row ledger never sits in memory as cells), every cell text;
    `widths` by header (11 for the others)."""
    sheet = workbook.create_sheet(title)
    for c, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = widths.get(header, 11)
    sheet.freeze_panes = "A2"
    count = 0
    sheet.append([_cell(sheet, value, HEADER_FONT, HEADER_FILL) for value in headers])
    for values in rows:
        sheet.append([_cell(sheet, value, None, None) for value in values])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"


def _cell(sheet, value, font, fill) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, _text(value))
    cell.data_type = "s"  # text even when it starts with "=": never a formula
    cell.number_format = "@"
    if font is not None:
        cell.font, cell.fill = font, fill
    else:
        cell.alignment = WRAP
    return cell


def _row(engine: Engine, item: Item, steps, running, signers, now, dues) -> list[str]:
    fields = {
        "number": item.number, "aspect": item.aspect.title if item.aspect else "", "title": item.title,
        "description": item.description, "category": item.category, "unit": item.unit.name,
        "person": item.person.name, "leader": item.leader.name, "deadline": item.deadline.isoformat(),
        "standard": item.standard, "third_party": YES if item.needs_third_party else NO,
        "publish": YES if item.publish else NO,
    }
    closed_on = engine.lights.local_date(item.closed_at).isoformat() if item.closed_at else ""
    return [fields[c.field] for c in COLUMNS] + [
        item.status, engine.lights.for_round(item.round).item_light(item.deadline, item.status, now, dues.get(item.id)),
        current_step(item, steps, running),
        closed_on, signers.get(item.id, ""),
    ]


def export_ledger(engine: Engine, round_ref: str | int) -> bytes:
    """The round's ledger as .xlsx bytes, items in ledger order."""
    now = CLOCK.now()
    with engine.db.reading() as session:
        round_ = find_round(session, round_ref)
        items = session.execute(select(Item).where(Item.round_id == round_.id).order_by(Item.id)
                                .options(*ITEM_LOAD_OPTIONS)).unique().scalars().all()
        steps, running = open_steps(session, round_.id), running_items(session, round_.id)
        signers = last_signers(session, round_.id)
        dues = earliest_dues(session, round_.id)
        rows = [_row(engine, item, steps, running, signers, now, dues) for item in items]
    workbook = Workbook(write_only=True)
    write_sheet(workbook, "整改台账", [c.header for c in COLUMNS] + list(STATUS_COLUMNS), rows, WIDTHS)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
