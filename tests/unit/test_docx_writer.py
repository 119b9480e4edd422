"""The 公文 .docx writer, without a database: read the file back with python-docx and check what Word will show."""
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from engine.reports.docx import BODY_FONT, HEADING1_FONT, TITLE_FONT, document_docx

COLUMNS = ["序号", "问题", "整改措施", "责任单位", "完成时限", "状态"]
ROWS = [[str(i), f"问题{i}：制度执行不到位", f"措施{i}", "办公室", "2026年6月30日", "已完成整改"] for i in range(1, 31)]


def sample(**changes) -> dict:
    doc = {
        "title_lines": ["中共某某党委关于市委第一巡察组", "巡察反馈意见整改情况的报告"],
        "recipient": "市委巡察工作领导小组：",
        "opening": "根据市委统一部署，市委第一巡察组于2026年3月至5月对某某党委开展了巡察。",
        "sections": [
            {"heading": "一、整改工作总体情况", "blocks": [
                {"kind": "paragraph", "text": "党委高度重视巡察反馈意见整改工作。"},
                {"kind": "subheading", "text": "（一）加强组织领导"},
                {"kind": "paragraph", "text": "成立整改工作领导小组。"},
            ]},
            {"heading": "二、问题整改进展情况", "blocks": [
                {"kind": "table", "caption": "表1 问题整改情况", "columns": COLUMNS,
                 "widths": [6, 30, 30, 12, 14, 10], "rows": ROWS},
                {"kind": "table", "caption": "表2 移交问题线索", "columns": ["序号", "线索", "办理情况"],
                 "widths": None, "rows": []},
            ]},
        ],
        "issuer": "中共某某党委",
        "date": "2026年7月20日",
        "footer_note": "（联系人：张三，电话：12345678）",
    }
    doc.update(changes)
    return doc


@pytest.fixture(scope="module")
def read_back():
    return Document(BytesIO(document_docx(sample())))


def test_title_and_headings_in_order(read_back):
    paragraphs = read_back.paragraphs
    assert paragraphs[0].style.name == "Title"
    assert paragraphs[0].text == "中共某某党委关于市委第一巡察组\n巡察反馈意见整改情况的报告"
    headings = [(p.style.name, p.text) for p in paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        ("Heading 1", "一、整改工作总体情况"),
        ("Heading 2", "（一）加强组织领导"),
        ("Heading 1", "二、问题整改进展情况"),
    ]
    texts = [p.text for p in paragraphs]
    assert texts.index("市委巡察工作领导小组：") < texts.index(sample()["opening"])
    assert [p.text for p in paragraphs if p.style.name == "Caption"] == ["表1 问题整改情况", "表2 移交问题线索"]
    closing = [p for p in paragraphs if p.text in ("中共某某党委", "2026年7月20日")]
    assert [p.text for p in closing] == ["中共某某党委", "2026年7月20日"]
    assert all(p.paragraph_format.alignment == 2 for p in closing)  # right
    assert texts[-1] == "（联系人：张三，电话：12345678）"


def test_table_cells_and_repeated_header(read_back):
    table, empty = read_back.tables
    assert [c.text for c in table.rows[0].cells] == COLUMNS
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == ROWS
    assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    for t in (table, empty):
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert t.style.name == "Table Grid"  # single borders all round
    assert len(empty.rows) == 2
    assert [c.text for c in empty.rows[1].cells] == ["（无）"] * 3  # one cell spanning the three columns
    assert empty.rows[1]._tr.tc_lst[0].grid_span == 3
    widths = [c.width for c in table.rows[0].cells]
    assert widths[1] > widths[0] * 4 and abs(sum(widths) - Mm(156)) < Mm(1)


def test_east_asian_fonts_named_on_runs(read_back):
    def east_asia(run):
        return run._r.rPr.rFonts.get(qn("w:eastAsia"))

    by_text = {p.text: p for p in read_back.paragraphs}
    assert east_asia(by_text["党委高度重视巡察反馈意见整改工作。"].runs[0]) == BODY_FONT
    assert east_asia(by_text["一、整改工作总体情况"].runs[0]) == HEADING1_FONT
    assert {east_asia(r) for r in read_back.paragraphs[0].runs} == {TITLE_FONT}
    assert east_asia(read_back.tables[0].cell(3, 1).paragraphs[0].runs[0]) == BODY_FONT
    body = [r for p in read_back.paragraphs for r in p.runs if p.style.name == "Normal"]
    assert body and all(east_asia(r) == BODY_FONT for r in body)


def test_page_size_margins_and_page_number(read_back):
    section = read_back.sections[0]
    lengths = (section.page_width, section.page_height, section.top_margin, section.bottom_margin,
               section.left_margin, section.right_margin)
    assert [round(x.mm, 1) for x in lengths] == [210, 297, 37, 35, 28, 26]  # Word stores twips
    footer = section.footer.paragraphs[0]._p
    instructions = [f.get(qn("w:instr")) for f in footer.iter(qn("w:fldSimple"))]
    instructions += [t.text for t in footer.iter(qn("w:instrText"))]
    assert any(i and i.strip().startswith("PAGE") for i in instructions)
    assert "".join(t.text for t in footer.iter(qn("w:t"))) == "— 1 —"


def test_control_characters_are_stripped():
    doc = sample(opening="根据\x0b市委统一部署\x00，\x1f巡察。", title_lines=["标题\x0c"])
    doc["sections"][1]["blocks"][0]["rows"] = [["1", "问题\x0b一", "", "", "", ""]]
    read = Document(BytesIO(document_docx(doc)))
    texts = [p.text for p in read.paragraphs]
    assert "根据市委统一部署，巡察。" in texts and texts[0] == "标题"
    assert read.tables[0].cell(1, 1).text == "问题一"


def test_empty_parts_are_left_out():
    doc = sample(recipient="", opening="", footer_note=None, sections=[])
    texts = [p.text for p in Document(BytesIO(document_docx(doc))).paragraphs if p.text]
    assert texts == ["中共某某党委关于市委第一巡察组\n巡察反馈意见整改情况的报告", "中共某某党委", "2026年7月20日"]


def test_a_long_table_written_row_by_row_is_the_same_document(monkeypatch):
    """Tables longer than STREAM_ROWS are written into the file as it is saved, not kept in memory: the XML is
    the same, byte for byte, as when the whole table is built first."""
    import zipfile

    from engine.reports import docx as writer

    def parts(data: bytes) -> dict:
        with zipfile.ZipFile(BytesIO(data)) as z:
            return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}  # its time

    built = parts(document_docx(sample()))
    monkeypatch.setattr(writer, "STREAM_ROWS", 4)
    streamed = parts(document_docx(sample()))
    assert streamed == built
    assert Document(BytesIO(document_docx(sample()))).tables[0].rows[-1].cells[1].text == "问题30：制度执行不到位"
