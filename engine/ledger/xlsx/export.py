"""Ledger export (docs/domain.md, documents): the import columns plus 状态, 灯色, 当前环节, 销号日期, 最后签字人,
as .xlsx — one round's ledger, or any set of items (the whole body, or what the problems page filtered)
with 轮次 first. One row function and one sheet writer serve both.

Every cell is written as text (a text cell, never a number, formula or error), so a title like
`=SUM(A1)` stays text in Excel instead of becoming a live formula; dates are YYYY-MM-DD text, which the
import reads back. The light is today's (from the deadline, the most pressing open step and the clock),
as `tick` would set it.

Items are read in batches of `BATCH`, each batch with its facts (open steps, running paths, earliest
due dates, last signers) in one query apiece, and streamed into openpyxl's write-only sheet: memory
stays that of one batch whether the export holds 20 rows or 20,000 (docs/performance.md)."""
from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import IO, TYPE_CHECKING, Iterator

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from engine.ledger.round_facts import current_step, earliest_dues, last_signers, open_steps, running_items
from engine.ledger.rounds import find_round
from engine.ledger.xlsx.sheet import COLUMNS, NO, YES
from engine.store.models import Aspect, Item, Round, Unit, User

if TYPE_CHECKING:
    from engine.core import Engine

STATUS_COLUMNS = ("状态", "灯色", "当前环节", "销号日期", "最后签字人")
HEADERS = [c.header for c in COLUMNS] + list(STATUS_COLUMNS)
ROUND_HEADER = "轮次"
WIDTHS = {"序号": 6, "方面": 28, "问题": 32, "问题描述": 40, "完成标准": 30, "当前环节": 20, "整改时限": 12,
          "销号日期": 12, ROUND_HEADER: 18}
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
HEADER_FONT = Font(bold=True)
WRAP = Alignment(vertical="top", wrap_text=True)
WIDE = 28  # columns at least this wide hold long text (方面, 问题, 问题描述, 完成标准): their cells wrap
MAX_TEXT = 32767  # characters Excel keeps in a cell
BATCH = 1000  # items read, with their facts, per round trip: small enough for memory, large enough for speed


def _text(value) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)) if value is not None else ""


def write_sheet(workbook: Workbook, title: str, headers: list[str], rows, widths: dict[str, int]) -> int:
    """Add a sheet to a write-only `workbook`: a bold, frozen, filterable header and `rows` (any iterable:
    rows stream to the file, so a 20,000-row ledger never sits in memory as cells), every cell text;
    `widths` by header (11 for the others). Returns the number of rows written.

    Only the cells that need it carry a style: those of wide columns (long text, wrapped, formatted as
    text) and any text openpyxl would otherwise take for a formula or an error code. The others are
    plain strings, which openpyxl writes as text cells at about half the cost of a styled cell, and an
    empty value is no cell at all (it reads back empty, as an empty text cell did): a third less
    writing time at 20,000 rows, the 5 s target's margin (docs/performance.md)."""
    sheet = workbook.create_sheet(title)
    for c, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = widths.get(header, 11)
    sheet.freeze_panes = "A2"
    count = 0
    sheet.append([_styled(_cell(sheet, value), HEADER_FONT, HEADER_FILL) for value in headers])
    wide = [widths.get(header, 11) >= WIDE for header in headers]
    body = _styled(_cell(sheet, ""), None, None)._style  # registered once, shared by the styled cells
    for values in rows:
        texts = [_text(value) for value in values]
        sheet.append([None if not text else _body_cell(sheet, text, body) if wrap or text[:1] == "="
                      or text in ERROR_CODES else text for text, wrap in zip(texts, wide)])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return count


def _cell(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, _text(value))
    cell.data_type = "s"  # text even when it starts with "=": never a formula
    return cell


def _body_cell(sheet, text: str, style) -> WriteOnlyCell:
    """A styled text cell, made without openpyxl's type guessing (the text is already clean: `_text`). The
    cells share one style array: a write-only cell is written once and never restyled."""
    cell = WriteOnlyCell(sheet)
    cell._value, cell.data_type, cell._style = text[:MAX_TEXT], "s", style
    return cell


def _styled(cell: WriteOnlyCell, font, fill) -> WriteOnlyCell:
    cell.number_format = "@"
    if font is not None:
        cell.font, cell.fill = font, fill
    else:
        cell.alignment = WRAP
    return cell


PERSON, LEADER = aliased(User), aliased(User)
# What a row shows of an item, labelled with the ledger columns' fields (sheet.COLUMNS) — one flat query
# a batch: no item objects to build, which at 20,000 rows cost as much as the query itself.
ROW_QUERY = (
    select(Item.id, Item.round_id, Round.name.label("round"), Item.number, Aspect.title.label("aspect"), Item.title,
           Item.description, Item.category, Unit.name.label("unit"), PERSON.name.label("person"),
           LEADER.name.label("leader"), Item.deadline, Item.standard, Item.needs_third_party.label("third_party"),
           Item.publish, Item.status, Item.closed_at)
    .join(Round, Round.id == Item.round_id).outerjoin(Aspect, Aspect.id == Item.aspect_id)
    .join(Unit, Unit.id == Item.unit_id).join(PERSON, PERSON.id == Item.person_id)
    .join(LEADER, LEADER.id == Item.leader_id)
)
CONVERT = {"aspect": lambda v: v or "", "deadline": date.isoformat, "third_party": lambda v: YES if v else NO,
           "publish": lambda v: YES if v else NO}


def ledger_rows(engine: Engine, session: Session, ids: Select, with_round: bool) -> Iterator[list[str]]:
    """The export's rows for the items `ids` selects (a query of Item.id, in the order wanted), read
    `BATCH` at a time, each batch's facts in one query apiece; 轮次 first if `with_round`."""
    now = engine.clock.now()
    rules = engine.lights.by_round(session)
    local_date = engine.lights.local_date
    fields = [(c.field, CONVERT.get(c.field)) for c in COLUMNS]
    order = session.execute(ids).scalars().all()
    for start in range(0, len(order), BATCH):
        batch = order[start:start + BATCH]
        loaded = {row.id: row for row in session.execute(ROW_QUERY.where(Item.id.in_(batch)))}
        steps, running = open_steps(session, None, batch), running_items(session, None, batch)
        signers, dues = last_signers(session, None, batch), earliest_dues(session, None, batch)
        for item_id in batch:
            item = loaded[item_id]
            values = item._mapping
            yield ([item.round] if with_round else []) + [
                convert(values[field]) if convert else values[field] for field, convert in fields] + [
                item.status, rules[item.round_id].item_light(item.deadline, item.status, now, dues.get(item_id)),
                current_step(item, steps, running),  # reads the row's id and status, as it would an Item's
                local_date(item.closed_at).isoformat() if item.closed_at else "", signers.get(item_id, ""),
            ]


def write_ledger(engine: Engine, ids: Select, target: str | IO[bytes], with_round: bool) -> int:
    """Write the items `ids` selects as one 整改台账 sheet to `target` (a path or a binary file);
    returns the number of rows."""
    workbook = Workbook(write_only=True)
    with engine.db.reading() as session:
        count = write_sheet(workbook, "整改台账", ([ROUND_HEADER] if with_round else []) + HEADERS,
                            ledger_rows(engine, session, ids, with_round), WIDTHS)
    workbook.save(target)
    return count


def export_ledger(engine: Engine, round_ref: str | int) -> bytes:
    """The round's ledger as .xlsx bytes, items in ledger order."""
    with engine.db.reading() as session:
        round_id = find_round(session, round_ref).id
    buffer = BytesIO()
    write_ledger(engine, select(Item.id).where(Item.round_id == round_id).order_by(Item.id), buffer, with_round=False)
    return buffer.getvalue()


def every_item() -> Select:
    """The whole body's items, in the order of the problems page (round, aspect, ledger order)."""
    return select(Item.id).order_by(Item.round_id, Item.aspect_id, Item.id)


def export_all(engine: Engine, target: str | IO[bytes]) -> dict:
    """Every item of every round (`rectify ledger export --all`): {"rows", "rounds"}."""
    rows = write_ledger(engine, every_item(), target, with_round=True)
    with engine.db.reading() as session:
        rounds = session.execute(select(func.count(func.distinct(Item.round_id)))).scalar_one()
    return {"rows": rows, "rounds": rounds}
