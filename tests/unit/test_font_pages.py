"""A long report reads glyph outlines from mapped CJK font files as it measures text; those pages are
handed back after each window (render.release_font_pages) so that they do not add up to every glyph's
by the end. Handing them back must change nothing in the fonts the report embeds."""
from __future__ import annotations

import sys
from io import BytesIO
from types import SimpleNamespace

import pytest

from engine import render

HTML = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; } h1 { font-family: "Noto Sans CJK SC"; }
</style></head><body><h1>整改情况的报告</h1>BODY</body></html>"""


def _resident_file_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and madvise are Linux's")
def test_font_pages_read_in_layout_are_handed_back_and_the_subsets_stay_the_same():
    # Many distinct characters, so that the outlines read are spread over the font files.
    text = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 3000))
    with render.collected_glyphs() as glyphs:
        document = render.document(HTML.replace("BODY", f"<p>{text}</p>"), render.fonts())
        with render.stand_in_fonts():
            document.copy(document.pages).write_pdf(BytesIO())
        del document
        assert glyphs, "the document embedded no font"
        untouched = {tag: SimpleNamespace(**vars(face)) for tag, face in glyphs.items()}
        expected = render.union_subsets(untouched)

        before = _resident_file_kib()
        released = render.release_font_pages(glyphs)
        assert released > 5 * 2**20  # the CJK collections are mapped whole, 18–26 MB each
        assert _resident_file_kib() < before - 1024

        assert render.union_subsets(glyphs) == expected  # the outlines are read again from the page cache
