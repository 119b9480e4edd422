"""HTML → PDF for the engine's documents: Jinja2 templates under engine/templates, fed plain values
only, rendered by WeasyPrint with a URL fetcher that refuses every file: and remote URL (a template
or a value can never make the renderer read the server's files or call out). Fonts come from the
system (fontconfig): Noto CJK or WenQuanYi, installed by `make run`."""
from __future__ import annotations

from pathlib import Path

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


def pdf(document_html: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """Render HTML to PDF bytes, with files attached (name → bytes)."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    fetcher = refusing_fetcher()
    files = [Attachment(string=content, name=name, url_fetcher=fetcher, description=name)
             for name, content in (attachments or {}).items()]
    try:
        return HTML(string=document_html, base_url=None, url_fetcher=fetcher).write_pdf(attachments=files)
    except FatalURLFetchingError as exc:
        cause = exc.__cause__
        raise EngineError(str(cause) if isinstance(cause, ResourceRefused) else f"生成 PDF 时无法读取资源：{exc}") from exc
