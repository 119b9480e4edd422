"""Long documents (a round of 2,000 problems: 300–400 pages) rendered in bounded memory.

WeasyPrint keeps the layout of every page until the PDF is written, several hundred MB for such a round.
So the document is a flat list of units (a paragraph, a problem, a table row) and is laid out a window of
units at a time, each window a document of its own written to a temporary file, the files then joined.

The pages are those of the whole document laid out at once, not merely similar: a window is laid out,
and only its pages before the last page that starts cleanly on a unit (one that did not begin on the page
before) are kept; the next window starts at that unit, with the page number, the page side (odd pages
number at the right) and the top-of-page margin truncation that page had in the whole document, so the
layout from there on is the same (the documents have no forced page breaks, after which a top margin
would be kept). Units carry `data-u` (their index) for this; a table cut in two is opened again with its
header row, as its continuation page repeats the header anyway. tests/integration/test_long_documents.py
compares the two page by page.

The outline (bookmarks of h1–h3) and the document information are rebuilt over the joined pages, and the
windows share one subset of each font (render.union_subsets) instead of carrying one each: a window embeds
only a stand-in for it (render.stand_in_fonts), which the join replaces.
"""
from __future__ import annotations

import ctypes
import gc
import shutil
import tempfile
from types import SimpleNamespace
from typing import BinaryIO, Callable

from engine import render

# What a window's HTML is made of: (the units in it, the first one's index, the first page's number).
WindowHtml = Callable[[list, int, int], str]
# Told after each window: (units laid out, all units, pages kept so far). A background job shows it.
Progress = Callable[[int, int, int], None]


def _page_units(page) -> tuple[int | None, int | None]:
    """The first and last unit index laid out on a page (None on a page without any)."""
    first = last = None
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        value = element.get("data-u") if element is not None and hasattr(element, "get") else None
        if value is not None:
            first = int(value) if first is None else first
            last = int(value)
    return first, last


def _cut(pages) -> tuple[int, int] | None:
    """(pages to keep, unit the next window starts with): the last page that begins with a unit not
    already on the page before it. The final page is never a candidate: it ends where the window was
    cut, and the break before it may depend on what comes after."""
    units = [_page_units(page) for page in pages]
    for index in range(len(pages) - 2, 0, -1):
        first, previous_last = units[index][0], units[index - 1][1]
        if first is not None and previous_last is not None and first > previous_last:
            return index, first
    return None


def _trim() -> None:
    """Hand freed heap back to the system (glibc keeps freed heap pages otherwise), so that the process's
    peak is one window's, not the high-water mark of all of them."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _share_fonts(writer, subsets: dict[str, tuple[str, bytes]]) -> None:
    """Point every window's embedded font at one subset with the glyphs of all windows (render.union_subsets)
    and drop the windows' own subsets."""
    from pypdf.generic import NameObject, NumberObject

    shared = {}
    for page in writer.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            tag = str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[0]
            if tag not in subsets:
                continue
            kind, data = subsets[tag]
            key = "/FontFile3" if kind == "otf" else "/FontFile2"
            for descendant in font.get("/DescendantFonts") or []:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if key not in descriptor:
                    continue
                if tag not in shared:
                    stream = descriptor[key].get_object()
                    stream.set_data(data)
                    if "/Length1" in stream:
                        stream[NameObject("/Length1")] = NumberObject(len(data))
                    shared[tag] = descriptor.raw_get(key)
                else:
                    descriptor[NameObject(key)] = shared[tag]
    if shared:
        try:
            writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        except TypeError:  # pypdf before 6
            writer.compress_identical_objects(remove_identicals=False, remove_orphans=True)


def _join(parts: list[str], bookmarks: list, info: dict, subsets: dict, target: BinaryIO) -> None:
    """Concatenate the windows' PDFs and give the result the whole document's outline, fonts and information."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit, NameObject, TextStringObject
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(part), import_outline=False)
    tree, skipped, level = [], [], 0
    last_by_depth = [tree]
    scale = 0.75  # CSS px → PDF points, as WeasyPrint writes its own outline
    for number, (height, marks) in enumerate(bookmarks):
        matrix = Matrix(a=scale, d=-scale, f=height * scale)
        level = make_page_bookmark_tree(SimpleNamespace(bookmarks=marks), skipped, last_by_depth, level, number, matrix)

    def add(subtrees, parent=None):
        for label, (page, x, y), children, state in subtrees:
            item = writer.add_outline_item(title=label, page_number=page, parent=parent, fit=Fit.xyz(x, y, 0),
                                          is_open=state != "closed")
            add(children, item)

    add(tree)
    _share_fonts(writer, subsets)
    writer.add_metadata({key: value for key, value in info.items() if key != "/Lang"})
    if info.get("/Lang"):
        writer._root_object[NameObject("/Lang")] = TextStringObject(info["/Lang"])
    writer.write(target)


def _document_info(path: str) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(path)
    info = {key: str(value) for key, value in (reader.metadata or {}).items()}
    lang = reader.trailer["/Root"].get("/Lang")
    return info | ({"/Lang": str(lang)} if lang else {})


def _lay_out(units: list, window_html: WindowHtml, chunk: int, folder: str, font_config, settle: Callable[[], None],
             progress: Progress | None = None) -> tuple[list, list]:
    """Write the windows' PDFs into `folder`: (their paths, each kept page's height and bookmarks), calling
    `settle` once each window is freed."""
    parts, bookmarks, start, page_number, size = [], [], 0, 1, chunk
    while True:
        end = min(len(units), start + size)
        document = render.document(window_html(units[start:end], start, page_number), font_config)
        cut = None if end == len(units) else _cut(document.pages)
        if end < len(units) and cut is None:  # no clean page start in this window: take a larger one
            del document
            size *= 2
            continue
        keep, following = cut if cut else (len(document.pages), None)
        pages = document.pages[:keep]
        bookmarks += [(page.height, page.bookmarks) for page in pages]
        parts.append(f"{folder}/{len(parts):04d}.pdf")
        if start == 0 and following is None:  # one window: its PDF is the document, with its own subsets
            document.copy(pages).write_pdf(parts[-1])
        else:
            with render.stand_in_fonts():
                document.copy(pages).write_pdf(parts[-1])
        del document, pages
        settle()
        page_number += keep
        if progress is not None:
            progress(len(units) if following is None else following, len(units), page_number - 1)
        if following is None:
            return parts, bookmarks
        start, size = following, chunk


def write_chunked_pdf(units: list, window_html: WindowHtml, target: BinaryIO, chunk: int,
                      progress: Progress | None = None) -> int:
    """Lay out `units` `chunk` at a time (see the module docstring) and write the joined PDF to `target`,
    telling `progress` after each window (it has no say in the layout). Returns the number of pages."""
    folder = tempfile.mkdtemp(prefix="rectify-pdf-")
    # The collections after each window need only look at what the windows made, not at every object
    # the process had before (the engine, its caches): ~0.1 s a window otherwise.
    gc.freeze()
    try:
        with render.collected_glyphs() as glyphs:
            def settle():
                gc.collect()  # a window's boxes hold reference cycles: free them before the next window
                _trim()
                # The font pages the window read would otherwise add up, window by window, to every glyph's.
                render.release_font_pages(glyphs)

            font_config = render.fonts()
            parts, bookmarks = _lay_out(units, window_html, max(1, chunk), folder, font_config, settle, progress)
            del font_config  # its font files stay mapped (and counted in the process's memory) while it lives
            settle()
            subsets = render.union_subsets(glyphs, after_each=_trim) if len(parts) > 1 else {}
            glyphs.clear()
        _join(parts, bookmarks, _document_info(parts[0]), subsets, target)
        return len(bookmarks)
    finally:
        gc.unfreeze()
        shutil.rmtree(folder, ignore_errors=True)


def pdf_file(units: list, window_html: WindowHtml, chunk: int) -> BinaryIO:
    """The same, as an anonymous temporary file, rewound: for a web response to stream (it is gone once closed)."""
    out = tempfile.TemporaryFile()
    try:
        write_chunked_pdf(units, window_html, out, chunk)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def pdf_bytes(units: list, window_html: WindowHtml, chunk: int) -> bytes:
    """The same, as bytes (for callers that need them whole: the PDF is small, its layout was not)."""
    with pdf_file(units, window_html, chunk) as out:
        return out.read()
