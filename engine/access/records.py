"""What the web UI may do with closure records (销号单), signature chains and the system overview.
Each function checks the signed-in user first (engine/access/items.py: load → 404, check → 403), then
calls the engine function that does the work.

  anyone, without logging in       verify an uploaded PDF (nothing of the upload is kept)
  who may see the item             its closure records, their PDFs, its signature chain as JSON
  整改办, 管理员 (who may see it)   make a new closure record of a closed item (earlier ones are kept)
  管理员                            the overview: signing certificate, audit chain, counts, outbox
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from engine.access.items import REGENERATORS, check_item, checked_item, require_role
from engine.closure import signing
from engine.closure.records import (
    KIND_CLOSURE,
    closure_record,
    document_file,
    signature_chain_bytes,
)
from engine.closure.verification import verify_pdf
from engine.errors import InvalidInput, NotFound
from engine.ledger.items import get_item
from engine.notify.delivery import channels_on, delivery_status
from engine.store.audit import chain_status
from engine.store.models import ADMIN, STATUS_CLOSED, AuditEntry, Document, Item, Signature, User

if TYPE_CHECKING:
    from engine.core import Engine

MAX_VERIFY_BYTES = 5 * 1024 * 1024  # a closure record is well under 1 MB; this bounds what we read
PDF_MAGIC = b"%PDF-"


def oversize() -> InvalidInput:
    """The refusal of an upload larger than any closure record (also when the server cut it off)."""
    return InvalidInput("文件过大，不是本系统生成的销号单",
                        {"file": f"销号单 PDF 不超过 {MAX_VERIFY_BYTES // (1024 * 1024)} MB，请检查是否选错了文件"})


def verify_upload(engine: Engine, data: bytes) -> dict:
    """The public verification of an uploaded file, as plain values. What is not a PDF at all (empty,
    too large, another kind of file renamed .pdf) is refused with a reason; a PDF that fails any
    check is an answer (ok False), not an error."""
    if not data:
        raise InvalidInput("请选择要核验的销号单 PDF 文件", {"file": "未选择文件，或文件是空的（0 字节）"})
    if len(data) > MAX_VERIFY_BYTES:
        raise oversize()
    if PDF_MAGIC not in data[:1024]:  # PDF readers accept the header anywhere in the first 1 KB
        raise InvalidInput("这不是 PDF 文件", {"file": "文件的内容不是 PDF，可能是改了扩展名的其他文件；"
                                                      "请上传从本系统下载的销号单 PDF 原件"})
    return verify_pdf(engine, data).as_dict()


def closure_file_for(engine: Engine, item_id: int, document_id: int, user_id: int) -> tuple[dict, bytes]:
    """(the record's row, its PDF) — a closure record of this item, which the user may see."""
    with engine.db.reading() as session:
        checked_item(session, item_id, user_id)
        doc = session.get(Document, document_id)
        if doc is None or doc.item_id != item_id or doc.kind != KIND_CLOSURE:
            raise NotFound(f"问题 {item_id} 没有编号为 {document_id} 的销号单")
        return document_file(engine, document_id)


def signature_chain_for(engine: Engine, item_id: int, user_id: int) -> bytes:
    """The item's signature chain as a JSON file, for someone who may see the item."""
    with engine.db.reading() as session:
        checked_item(session, item_id, user_id)
        return signature_chain_bytes(engine, item_id)


def generate_closure_for(engine: Engine, item_id: int, user_id: int) -> dict:
    """A new signed closure record of a closed item, made by 整改办 or 管理员 (who may see it). The
    check is its own short read: rendering and signing must not run inside a held session."""
    with engine.db.reading() as session:
        user = require_role(session, user_id, *REGENERATORS)
        check_item(user, get_item(session, item_id))
        actor = user.name
    return closure_record(engine, item_id, actor)


def admin_overview(engine: Engine, user_id: int) -> dict:
    """The 管理员's page: the signing certificate in use, the audit chain's state, and counts."""
    queries = {
        "users": select(func.count(User.id)).where(User.active.is_(True)),
        "items": select(func.count(Item.id)),
        "closed_items": select(func.count(Item.id)).where(Item.status == STATUS_CLOSED),
        "documents": select(func.count(Document.id)),
        "signatures": select(func.count(Signature.id)),
        "audit_entries": select(func.count(AuditEntry.id)),
    }
    with engine.db.reading() as session:
        require_role(session, user_id, ADMIN)
        counts = {key: session.execute(query).scalar() or 0 for key, query in queries.items()}
        return {"certificate": signing.certificate_info(engine), "audit": chain_status(engine), "counts": counts,
                "outbox": engine.outbox.status(), "delivery": delivery_status(engine) | {
                    "channels": sorted(channels_on(engine.settings))}}
