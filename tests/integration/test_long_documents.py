"""Long reports are laid out a window of units at a time (engine/reports/chunked_pdf.py) and the windows
joined: the result must be the document laid out at once — the same pages, page for page, numbered
1..N without restarting, every problem once and in order, the same outline. Small windows here, so that
the 25-problem round needs many of them and cuts fall inside tables."""
from __future__ import annotations

import re
import subprocess
import tempfile
from io import BytesIO

import pytest
from fontTools.ttLib import TTFont
from ledger_fixture import close_allowances
from pypdf import PdfReader

from engine import render
from engine.ledger.rounds import update_round_report_text
from engine.reports.progress import progress_report, render_progress_pdf, write_progress_pdf
from engine.reports.upward import render_upward_pdf, upward_report

ROUND = "测试轮次"
WHOLE = 10**6  # a window larger than the document: laid out at once


def _pages(pdf: bytes) -> list[str]:
    """Each page's text as pdftotext lays it out."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", file.name, "-"], check=True,
                              capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def _outline(pdf: bytes) -> list:
    reader = PdfReader(BytesIO(pdf))

    def walk(items, depth):
        for entry in items:
            if isinstance(entry, list):
                yield from walk(entry, depth + 1)
            else:
                yield depth, entry.title, reader.get_destination_page_number(entry)
    return list(walk(reader.outline, 0))


@pytest.fixture
def windows(monkeypatch):
    """How many windows the renderer laid out."""
    count = [0]
    lay_out = render.document

    def counting(html, *args):
        count[0] += 1
        return lay_out(html, *args)
    monkeypatch.setattr(render, "document", counting)
    return count


def _font_files(pdf: bytes) -> dict[str, set]:
    """Each embedded font (by name) → the font file objects embedded for it."""
    files: dict[str, set] = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                files.setdefault(str(font["/BaseFont"]), set()).update(
                    descriptor.raw_get(key).idnum for key in ("/FontFile2", "/FontFile3") if key in descriptor)
    return files


def _font_programs(pdf: bytes) -> dict[str, bytes]:
    """Each embedded font (by name) → its font program's bytes."""
    programs = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                for key in ("/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        programs[str(font["/BaseFont"])] = descriptor[key].get_object().get_data()
    return programs


def _same_document(chunked: bytes, whole: bytes) -> list[str]:
    pages, expected = _pages(chunked), _pages(whole)
    assert len(pages) == len(expected) >= 4
    for n, (page, page_expected) in enumerate(zip(pages, expected), start=1):
        assert page == page_expected, f"page {n}"
        assert re.search(rf"—\s*{n}\s*—\s*$", page), f"page {n} is numbered {page.strip()[-12:]!r}"
    assert _outline(chunked) == _outline(whole)
    info, info_whole = PdfReader(BytesIO(chunked)).metadata, PdfReader(BytesIO(whole)).metadata
    assert (info.title, info.author) == (info_whole.title, info_whole.author) and info.title
    # The windows share one subset of each font, as the document made at once has.
    fonts = _font_files(chunked)
    assert fonts.keys() == _font_files(whole).keys() and all(len(f) == 1 for f in fonts.values()), fonts
    # … a real font program, not the stand-in a window embeds until the join (render.stand_in_fonts)
    programs = _font_programs(chunked)
    assert programs.keys() == fonts.keys()
    for name, program in programs.items():
        assert len(program) > 1000 and TTFont(BytesIO(program))["head"].unitsPerEm > 0, name
    return pages


def test_the_progress_report_in_windows_is_the_report_laid_out_at_once(imported, windows):
    close_allowances(imported, ROUND)
    update_round_report_text(imported, ROUND, report_practices="一是压实整改责任。", report_next_steps="持续抓好整改。",
                             report_contact="电话 0571-12345678")
    report = progress_report(imported, ROUND)
    whole = render_progress_pdf(report, chunk=WHOLE)
    assert windows[0] == 1
    chunked = render_progress_pdf(report, chunk=4)
    assert windows[0] >= 1 + 3
    pages = _same_document(chunked, whole)

    text = re.sub(r"\s+", "", "".join(pages))
    headings = [p["heading"] for s in report["sections"] for a in s["aspects"] for p in a["problems"]]
    assert len(headings) == 24
    at = 0
    for heading in headings:  # each exactly once, in order
        assert text.count(heading) == 1, heading
        assert text.index(heading) > at
        at = text.index(heading)

    with tempfile.TemporaryFile() as out:  # the file-writing form (CLI) writes the same pages
        assert write_progress_pdf(report, out, chunk=4) == len(pages)
        out.seek(0)
        assert _pages(out.read()) == pages


def test_the_upward_report_in_windows_cuts_its_tables_cleanly(imported, windows):
    report = upward_report(imported, ROUND)
    whole = render_upward_pdf(report, chunk=WHOLE)
    chunked = render_upward_pdf(report, chunk=6)
    assert windows[0] >= 1 + 3
    pages = _same_document(chunked, whole)
    # A page inside a table starts with its header row again (序号 heads every table, 序/号 when it wraps).
    first_lines = [next(line for line in page.split("\n") if line.strip()).strip() for page in pages]
    assert sum(line.startswith("序") for line in first_lines) >= 2
