"""A formal document (公文) as .docx, laid out after GB/T 9704-2012 as far as python-docx allows.

The office opens the file in Word or WPS to put its letterhead above it, so everything is real, editable
text: the title, headings and body carry named styles (Title, Heading 1/2, Normal, Caption), tables are
Word tables. Input is the plain dict also rendered to PDF (see `document_docx`).

Left out of GB/T 9704: the 22 × 28 character grid (exact line spacing gives the 22 lines), page numbers
alternating right/left on odd/even pages (here centred), the letterhead and 版记 (the office adds them)."""
from __future__ import annotations

import copy
import re
import zipfile
from io import BytesIO

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml
from docx.shared import Mm, Pt
from docx.table import _Cell
from lxml import etree

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
# The GB fonts are missing on many machines: Word and WPS substitute a font's w:altName from the font table.
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING2_FONT: "楷体"}

BODY_SIZE = 16  # 三号
LINE = Pt(28.9)  # exactly: 22 lines fill the 225 mm text block
TEXT_WIDTH = Mm(210 - 28 - 26)
STREAM_ROWS = 200  # a longer table is written row by row when the file is saved (see _table)
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text) -> str:
    """Characters XML 1.0 cannot hold (pasted vertical tabs, form feeds…) would make python-docx refuse the text."""
    text = "" if text is None else str(text)
    return _XML_UNSAFE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def set_font(rpr, name: str) -> None:
    """The one place a font is named. python-docx's `font.name` sets only the Latin slots, so Chinese text would
    fall back to the theme font: name all four slots, and drop theme attributes, which win over names."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def _style(style, font: str, size: float, *, align=None, indent: bool = True, line=LINE, bold: bool = False):
    """Make a built-in style plain 公文: no theme colour, border or spacing of the default template."""
    rpr, ppr = style.element.get_or_add_rPr(), style.element.get_or_add_pPr()
    for parent, tags in ((rpr, ("w:color", "w:spacing", "w:kern", "w:bCs")), (ppr, ("w:pBdr", "w:contextualSpacing"))):
        for tag in tags:
            for element in parent.findall(qn(tag)):
                parent.remove(element)
    set_font(rpr, font)
    style.font.size, style.font.bold, style.font.italic = Pt(size), bold, False
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.alignment = align
    # A fixed 2-character indent rather than w:firstLineChars: that one overrides any indent set per paragraph.
    fmt.first_line_indent = Pt(2 * size) if indent else Pt(0)
    fmt.line_spacing = line or 1.0
    if line:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    return style


def _setup(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(28)
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_font(defaults, BODY_FONT)
    lang = defaults.find(qn("w:lang"))
    if lang is not None:  # Chinese line-breaking rules (no 。at a line start)
        lang.set(qn("w:eastAsia"), "zh-CN")
    styles = doc.styles
    _style(styles["Normal"], BODY_FONT, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(styles["Title"], TITLE_FONT, 22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=Pt(35))
    for name, font in (("Heading 1", HEADING1_FONT), ("Heading 2", HEADING2_FONT)):
        _style(styles[name], font, BODY_SIZE).paragraph_format.keep_with_next = True
    _style(styles["Caption"], HEADING1_FONT, 14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    styles["Caption"].paragraph_format.keep_with_next = True
    _style(styles["Footer"], PAGE_NUMBER_FONT, 14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=None)
    cells = _style(styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH), BODY_FONT, 12, indent=False, line=None)
    cells.base_style = styles["Normal"]
    _font_fallbacks(doc.part.part_related_by(RT.FONT_TABLE))
    # The default template's thumbnail is a picture of another document: file browsers would show it.
    for rel_id, rel in list(doc.part.package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            doc.part.package.rels.pop(rel_id)


def _font_fallbacks(part) -> None:
    """python-docx keeps the font table as plain bytes (`Part`), so it is parsed, extended and put back."""
    table = parse_xml(part.blob)
    for font, alt in FALLBACKS.items():  # charset 86: GB2312
        table.append(parse_xml(f'<w:font {nsdecls("w")} w:name="{font}"><w:altName w:val="{alt}"/>'
                               '<w:charset w:val="86"/></w:font>'))
    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def _run(paragraph, text: str, font: str = BODY_FONT, bold: bool | None = None):
    run = paragraph.add_run(clean(text))
    set_font(run._r.get_or_add_rPr(), font)
    run.bold = bold  # None: as the style says
    return run


def _paragraphs(doc, text, style=None, font: str = BODY_FONT, size: float | None = None) -> None:
    """One paragraph per line of the text: a line break in the input is a new paragraph in a 公文."""
    for line in clean(text).split("\n"):
        if line.strip():
            run = _run(doc.add_paragraph(style=style), line.strip(), font)
            run.font.size = Pt(size) if size else None


def _fill_row(table, tr, texts: list[str], style_id: str, header: bool) -> None:
    for tc, text in zip(tr.tc_lst, texts):
        cell = _Cell(tc, table)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        paragraph = cell.paragraphs[0]
        paragraph._p.style = style_id
        if header:  # bold, centred
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(paragraph, text, bold=header or None)


def _table(doc, block: dict, deferred: list) -> None:
    """A Word table. Linear in its rows, which python-docx's conveniences are not (row.cells and column.cells
    rebuild the whole grid on every call; paragraph.style = … scans every style for the default): cells are
    reached through the XML rows and the style's id looked up once. Beyond STREAM_ROWS rows, only an empty
    row is kept as a pattern and the rows are written out when the file is saved (`_save`), so a 2,000-row
    table never stands in memory as some 400,000 XML elements."""
    columns = [clean(c) for c in block.get("columns") or []] or ["（无）"]
    if block.get("caption"):
        _run(doc.add_paragraph(style="Caption"), block["caption"], HEADING1_FONT)
    rows = [list(r) + [""] * (len(columns) - len(r)) for r in block.get("rows") or []]
    streamed = len(rows) > STREAM_ROWS
    table = doc.add_table(rows=1 + (1 if streamed else max(len(rows), 1)), cols=len(columns))
    table.style, table.alignment, table.autofit = doc.styles["Table Grid"], WD_TABLE_ALIGNMENT.CENTER, False
    weights = block.get("widths") or [1] * len(columns)
    weights = [float(w or 1) for w in (list(weights) + [1] * len(columns))[: len(columns)]]
    widths = [int(TEXT_WIDTH * w / sum(weights)) for w in weights]
    # Word reads each cell's width, LibreOffice the grid's: set both, before merging the empty-table row.
    for i, column in enumerate(table.columns):
        column.width = widths[i]
    for tr in table._tbl.tr_lst:
        for i, tc in enumerate(tr.tc_lst):
            _Cell(tc, table).width = widths[i]
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # the header repeats on every page
    style_id = doc.part.get_style_id(doc.styles["Table Text"], WD_STYLE_TYPE.PARAGRAPH)
    if streamed:
        pattern = table._tbl.tr_lst[1]
        table._tbl.remove(pattern)
        table._tbl.append(etree.Comment(f"rows {len(deferred)}"))  # where `_save` writes them
        deferred.append((table, pattern, rows, style_id))
        rows = []
    for index, (tr, texts) in enumerate(zip(table._tbl.tr_lst, [columns, *rows])):
        _fill_row(table, tr, texts, style_id, header=index == 0)
    if not rows and not streamed:
        cell = table.cell(1, 0).merge(table.cell(1, len(columns) - 1))
        cell.paragraphs[0].style = doc.styles["Table Text"]
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cell.paragraphs[0], "（无）")


def _row_xml(table, pattern, texts: list[str], style_id: str) -> bytes:
    """One row as the XML it would have inside the document (its namespace declarations are the root's)."""
    tr = copy.deepcopy(pattern)
    _fill_row(table, tr, texts, style_id, header=False)
    head, tail = etree.tostring(tr, encoding="UTF-8").split(b">", 1)
    return re.sub(rb' xmlns:\w+="[^"]*"', b"", head) + b">" + tail


def _save(out, deferred: list) -> bytes:
    """The .docx bytes, the deferred table rows written into word/document.xml as it is compressed."""
    skeleton = BytesIO()
    out.save(skeleton)
    if not deferred:
        return skeleton.getvalue()
    result = BytesIO()
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
                continue
            pieces = re.split(rb"<!--rows (\d+)-->", source.read(info.filename))
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w") as xml:
                xml.write(pieces[0])
                for index, following in zip(pieces[1::2], pieces[2::2]):
                    table, pattern, rows, style_id = deferred[int(index)]
                    for texts in rows:
                        xml.write(_row_xml(table, pattern, texts, style_id))
                    xml.write(following)
    return result.getvalue()


def _page_number(section) -> None:
    """— 1 — in the footer, the number a PAGE field so Word and WPS count the pages themselves."""
    paragraph = section.footer.paragraphs[0]
    paragraph.style = "Footer"
    _run(paragraph, "— ", PAGE_NUMBER_FONT)
    paragraph._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    _run(paragraph, " —", PAGE_NUMBER_FONT)


def _width(text: str) -> float:
    """Width in Chinese characters: ASCII digits and letters are half as wide."""
    return sum(0.5 if ord(ch) < 0x80 else 1 for ch in text)


def document_docx(doc: dict) -> bytes:
    """The .docx bytes of a formal document: title_lines, recipient, opening, sections (heading and blocks of
    kind paragraph / subheading / table), issuer, date and an optional footer_note — see the module's docs."""
    out, deferred = Document(), []
    _setup(out)
    title = out.add_paragraph(style="Title")
    for i, line in enumerate(doc.get("title_lines") or []):
        if i:
            title.runs[-1].add_break()
        _run(title, line, TITLE_FONT)
    out.add_paragraph()  # GB/T 9704: one blank line under the title
    if clean(doc.get("recipient")).strip():
        recipient = out.add_paragraph()
        recipient.paragraph_format.first_line_indent = Pt(0)  # 主送机关 starts at the margin
        _run(recipient, clean(doc["recipient"]).strip())
    _paragraphs(out, doc.get("opening"))
    for section in doc.get("sections") or []:
        _paragraphs(out, section.get("heading"), "Heading 1", HEADING1_FONT)
        for block in section.get("blocks") or []:
            kind = block.get("kind")
            if kind == "table":
                _table(out, block, deferred)
            elif kind == "subheading":
                _paragraphs(out, block.get("text"), "Heading 2", HEADING2_FONT)
            else:
                _paragraphs(out, block.get("text"))
    issuer, date = clean(doc.get("issuer")).strip(), clean(doc.get("date")).strip()
    if issuer or date:
        out.add_paragraph()  # the closing stands one line below the text
        # The date ends 4 characters from the right; the issuer is centred over the date.
        for text, right in ((issuer, 4 + max(0, _width(date) - _width(issuer)) / 2), (date, 4)):
            if text:
                paragraph = out.add_paragraph()
                fmt = paragraph.paragraph_format
                fmt.alignment, fmt.first_line_indent, fmt.right_indent = WD_ALIGN_PARAGRAPH.RIGHT, Pt(0), Pt(16 * right)
                _run(paragraph, text)
    if clean(doc.get("footer_note")).strip():
        out.add_paragraph()
        _paragraphs(out, doc["footer_note"], size=14)
    _page_number(out.sections[0])
    props = out.core_properties
    props.title, props.author, props.comments = clean("".join(doc.get("title_lines") or [])), issuer, ""
    return _save(out, deferred)
