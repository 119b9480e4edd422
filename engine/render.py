"""HTML → PDF for the engine's documents: Jinja2 templates under engine/templates, fed plain values
only, rendered by WeasyPrint with a URL fetcher that refuses every file: and remote URL (a template
or a value can never make the renderer read the server's files or call out). Fonts come from the
system (fontconfig): Noto CJK or WenQuanYi, installed by `make run`."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine.errors import EngineError

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Only inline data: URLs (e.g. an embedded image) may be fetched.
ALLOWED_SCHEMES = frozenset({"data"})

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)


class ResourceRefused(ValueError):
    """A document tried to load a file: or remote resource."""


def html(template: str, **values) -> str:
    return _templates.get_template(template).render(**values)


def refusing_fetcher():
    """A WeasyPrint URL fetcher that raises for anything but data: URLs; with fail_on_errors, the
    refusal stops the rendering instead of leaving a silent gap in the document."""
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):
        def __init__(self):
            super().__init__(fail_on_errors=True, allowed_protocols=ALLOWED_SCHEMES)

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme not in ALLOWED_SCHEMES:
                raise ResourceRefused(f"文档不得引用外部资源：{url[:200]}")
            return super().fetch(url, headers)

    return RefusingFetcher()


def lean_fonts() -> None:
    """Keep WeasyPrint from holding whole font files while it writes a PDF.

    WeasyPrint (62–70) copies the entire font file into each of its Font objects, one per face and size,
    when it first draws with it, and keeps the copies until the PDF is written: 19–27 MB apiece for the Noto
    CJK collections, ~140 MB for a document set in three faces at four sizes, whatever its length. It makes
    the embedded subset from the face itself (HarfBuzz), so the copy is needed only on fallback paths (no
    HarfBuzz subsetter, variable or colour fonts): there it is now read from the face when asked for. Left
    as it is if WeasyPrint's Font no longer looks like this."""
    try:
        from weasyprint.pdf import fonts
    except ImportError:  # pragma: no cover
        return
    font = fonts.Font
    if getattr(font, "_lean_fonts", False) or not hasattr(fonts, "get_hb_object_data") or "file_content" in vars(font):
        return
    whole, original_init, local = fonts.get_hb_object_data, font.__init__, threading.local()

    def get_hb_object_data(hb_object, *args, **kwargs):
        if getattr(local, "in_init", False) and not args and not kwargs:
            return None  # the whole file, in Font.__init__: read later if ever needed
        return whole(hb_object, *args, **kwargs)

    def init(self, *args, **kwargs):
        local.in_init = True
        try:
            original_init(self, *args, **kwargs)
        finally:
            local.in_init = False

    def get_content(self):
        content = self.__dict__.get("_file_content")
        return whole(self.hb_face) if content is None else content

    def set_content(self, content):
        self.__dict__["_file_content"] = content

    original_subset = font.subset

    def subset(self, to_unicode, hinting):
        glyphs = getattr(_collecting, "glyphs", None)
        if glyphs is not None and to_unicode:  # see collected_glyphs
            if self.hash not in glyphs:
                face = fonts.ffi.gc(fonts.harfbuzz.hb_face_reference(self.hb_face), fonts.harfbuzz.hb_face_destroy)
                glyphs[self.hash] = SimpleNamespace(hb_face=face, family=self.family, missing={}, to_unicode={},
                                                    file_content=None)
            glyphs[self.hash].to_unicode.update(to_unicode)
            glyphs[self.hash].missing.update(self.missing)
            if getattr(_collecting, "stand_in", False) and _replaceable(self):
                # The join puts one subset of all windows in place of this one (chunked_pdf): making it
                # anyway was ~15 % of a long report's time and, for a CJK face, its peak memory.
                self.file_content = b"OTTO" if {"CFF ", "CFF2"} & set(self.tables) else b"\0\1\0\0"
                return None
        return original_subset(self, to_unicode, hinting)

    fonts.get_hb_object_data = get_hb_object_data
    font.__init__, font.file_content, font.subset = init, property(get_content, set_content), subset
    font._lean_fonts = True


_collecting = threading.local()


@contextmanager
def collected_glyphs():
    """While open (in this thread), every glyph each PDF written embeds is recorded by font; `union_subsets`
    then makes one subset of each font holding them all. Documents written one after another and joined
    (engine/reports/chunked_pdf.py) would otherwise each carry a subset of their own: ~140 KB a CJK font a
    window, six times the size of the document made at once."""
    lean_fonts()
    _collecting.glyphs = glyphs = {}
    try:
        yield glyphs
    finally:
        _collecting.glyphs = None


@contextmanager
def stand_in_fonts():
    """While open (inside `collected_glyphs`), a PDF written embeds a four-byte stand-in for each font
    `union_subsets` can replace, not a subset of its own: for documents that are joined and given the
    union subsets (engine/reports/chunked_pdf.py). Never for a PDF that is kept as it is."""
    _collecting.stand_in = True
    try:
        yield
    finally:
        _collecting.stand_in = False


def _harfbuzz_subsets() -> bool:
    """Whether HarfBuzz can subset here (what WeasyPrint itself requires of it)."""
    from weasyprint.pdf import fonts

    return bool(fonts.harfbuzz_subset and fonts.harfbuzz.hb_version_atleast(4, 1, 0))


def _replaceable(font) -> bool:
    """A face `union_subsets` subsets (HarfBuzz) and WeasyPrint embeds as it is: variable, bitmap and colour
    faces are rewritten from their file after subsetting, so they keep WeasyPrint's own path."""
    return _harfbuzz_subsets() and not ("fvar" in font.tables or font.bitmap or font.png or font.svg or font.colr)


MADV_DONTNEED = 4  # <sys/mman.h> on Linux


def release_font_pages(glyphs: dict) -> int:
    """Drop from this process's resident memory the pages of the font files the faces in `glyphs` (see
    `collected_glyphs`) were read from, returning how many bytes of mappings were released.

    HarfBuzz maps a font file and reads glyph outlines from it as text is measured; for a CJK collection the
    pages read stay counted in the process (~20 MB a face by the end of a long report) though they are only
    the system's page cache. A read-only file mapping loses nothing when dropped: a page is read again from
    the cache when next touched. Only the read-only mappings that hold a collected face's font file are
    dropped (never memory a face holds on the heap, nor a library's segments), and only on Linux; elsewhere
    nothing happens."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            mappings = [line.split(maxsplit=5) for line in maps]
        madvise = ctypes.CDLL("libc.so.6", use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes, madvise.restype = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int), ctypes.c_int
    read_only_files = []
    for fields in mappings:
        if len(fields) == 6 and fields[1] == "r--p" and fields[5].startswith("/"):
            low, high = (int(bound, 16) for bound in fields[0].split("-"))
            read_only_files.append((low, high))
    from weasyprint.pdf import fonts

    released = set()
    for face in glyphs.values():
        try:
            blob = fonts.harfbuzz.hb_face_reference_blob(face.hb_face)
        except AttributeError:  # WeasyPrint's bindings changed shape: leave the pages as they are
            return 0
        try:
            address = int(fonts.ffi.cast("uintptr_t", fonts.harfbuzz.hb_blob_get_data(blob, fonts.ffi.NULL)))
        finally:
            fonts.harfbuzz.hb_blob_destroy(blob)
        for low, high in read_only_files:
            if low <= address < high and (low, high) not in released and madvise(low, high - low, MADV_DONTNEED) == 0:
                released.add((low, high))
    return sum(high - low for low, high in released)


def union_subsets(glyphs: dict, after_each: Callable[[], None] = lambda: None) -> dict[str, tuple[str, bytes]]:
    """Font name tag (WeasyPrint's hash, the part before + in /BaseFont) → (ttf or otf, one subset with every
    glyph recorded). Glyph ids are kept as they are in the font (WeasyPrint subsets with RETAIN_GIDS), so it
    serves every document that embedded a subset of the same font. Empty if HarfBuzz cannot subset here.

    `glyphs` is emptied face by face, and `after_each` called once a face is released: HarfBuzz's tables
    for a CJK face are several MB, and a caller that hands freed memory back keeps one face's at a time."""
    from weasyprint.pdf import fonts

    if not _harfbuzz_subsets():
        return {}
    subsets = {}
    while glyphs:
        tag, face = glyphs.popitem()
        fonts.Font._harfbuzz_subset(face, face.to_unicode, False)  # as WeasyPrint does, hinting off
        # a face HarfBuzz cannot subset goes in whole, as WeasyPrint embeds it then (the windows hold stand-ins)
        content = face.file_content or fonts.get_hb_object_data(face.hb_face)
        subsets[tag] = ("otf" if content[:4] == b"OTTO" else "ttf", content)
        del face
        after_each()
    return subsets


def fonts():
    """A WeasyPrint font configuration, to share between documents laid out one after another (each would
    otherwise set up its own Pango font map, and pay again for loading and shaping with its fonts)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def document(document_html: str, font_config=None):
    """Lay HTML out into pages (a WeasyPrint Document), resources refused as for `pdf`."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    lean_fonts()
    try:
        return HTML(string=document_html, base_url=None, url_fetcher=refusing_fetcher()).render(font_config=font_config)
    except FatalURLFetchingError as exc:
        raise _refused(exc) from exc


def _refused(exc) -> EngineError:
    cause = exc.__cause__
    return EngineError(str(cause) if isinstance(cause, ResourceRefused) else f"生成 PDF 时无法读取资源：{exc}")


def pdf(document_html: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """Render HTML to PDF bytes, with files attached (name → bytes)."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    lean_fonts()
    fetcher = refusing_fetcher()
    files = [Attachment(string=content, name=name, url_fetcher=fetcher, description=name)
             for name, content in (attachments or {}).items()]
    try:
        return HTML(string=document_html, base_url=None, url_fetcher=fetcher).write_pdf(attachments=files)
    except FatalURLFetchingError as exc:
        raise _refused(exc) from exc
