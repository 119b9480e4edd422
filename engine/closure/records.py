"""Signed closure records (销号单): made when an item closes and on request, stored by SHA-256 with a
`documents` row (never updated or deleted), listed per item; and the signature chain as JSON.

When an item closes, its first record is made in the same transaction as the final sign-off. If no
usable signing certificate is configured (none, expired, not yet valid), the item still closes —
the sign-off is the act that counts; the record is a proof of it that can be made later — and the
audit log says why no record was made (`closure.unsigned`). `rectify items closure ID` then makes it
once a certificate is installed. Any other failure (rendering, disk) fails the sign-off, so that a
broken renderer is noticed at once instead of silently leaving items without records.
"""
from __future__ import annotations

import json
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store import audit
from engine.closure import signing
from engine.clock import CLOCK
from engine.closure.content import record_data, record_digest
from engine.errors import Conflict, NotFound
from engine.ledger.items import get_item
from engine.store.models import STATUS_CLOSED, Document, Item, Signature, User
from engine.work.signoff import item_facts, verify_item_chain

KIND_CLOSURE = "closure"
# Verification codes: 12 characters without look-alikes (0/O, 1/I/L), shown as XXXX-XXXX-XXXX.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def document_view(doc: Document) -> dict:
    return {
        "id": doc.id, "kind": doc.kind, "item_id": doc.item_id, "sha256": doc.sha256, "size": doc.size,
        "verification_code": doc.verification_code, "record_digest": doc.record_digest,
        "cert_fingerprint": doc.cert_fingerprint, "created_at": doc.created_at.isoformat(),
        "created_by": doc.created_by, "filename": f"销号单_问题{doc.item_id}_{doc.verification_code}.pdf",
    }


def produce(engine, session: Session, item: Item, actor: str | None, credentials: signing.Credentials) -> Document:
    """Render, sign and store a new record of the closed item, inside the caller's transaction."""
    from engine.closure.pdf import render_and_sign  # WeasyPrint loads only when a record is made

    record = record_data(engine, session, item)
    digest = record_digest(record)
    code, now = new_code(), CLOCK.now()
    pdf = render_and_sign(record, digest, code, now.isoformat(), credentials, engine.settings.timezone)
    sha = engine.documents.put(pdf)
    doc = Document(kind=KIND_CLOSURE, item_id=item.id, sha256=sha, size=len(pdf), verification_code=code,
                   record_digest=digest, cert_fingerprint=credentials.fingerprint, created_at=now, created_by=actor)
    session.add(doc)
    session.flush()
    audit.append(session, "closure.generate", "document", doc.id, actor, item=item.id, sha256=sha,
                 verification_code=code, record_digest=digest, signatures=record["bounds"]["signatures"])
    return doc


def record_on_close(engine, session: Session, item: Item, actor_id: int | None) -> Document | None:
    """The hook run when an item closes (engine/instances.py), in the closing transaction."""
    actor = session.get(User, actor_id).name if actor_id else None
    try:
        credentials = signing.credentials(engine)
    except signing.SigningUnavailable as exc:
        audit.append(session, "closure.unsigned", "item", item.id, actor,
                     reason=f"销号单未生成：{exc.message}", remedy=f"配置证书后运行 rectify items closure {item.id} --out 文件.pdf")
        return None
    return produce(engine, session, item, actor, credentials)


def closure_record(engine, item_id: int, actor: str | None = None) -> dict:
    """Make a new signed record of a closed item (earlier ones are kept). One transaction."""
    with engine.db.transaction() as session:
        item = get_item(session, item_id)
        if item.status != STATUS_CLOSED:
            raise Conflict(f"问题 {item_id} 尚未销号（当前状态：{item.status}），不能生成销号单")
        return document_view(produce(engine, session, item, actor, signing.credentials(engine)))


def item_closure_documents(engine, item_id: int) -> list[dict]:
    """The item's closure records, newest first; the first is the one to hand out."""
    with engine.db.reading() as session:
        get_item(session, item_id)
        rows = session.execute(select(Document).where(Document.item_id == item_id, Document.kind == KIND_CLOSURE)
                               .order_by(Document.id.desc())).scalars().all()
        return [document_view(d) | {"latest": i == 0} for i, d in enumerate(rows)]


def document_file(engine, document_id: int) -> tuple[dict, bytes]:
    """A document's row and its bytes, checked against its SHA-256."""
    with engine.db.reading() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            raise NotFound(f"文档 {document_id} 不存在")
        view = document_view(doc)
    return view, engine.documents.read(view["sha256"], verify=True)


def latest_closure_pdf(engine, item_id: int, actor: str | None = None, regenerate: bool = False) -> tuple[dict, bytes]:
    """The item's latest record (made now if asked to, or if the item closed without one)."""
    documents = item_closure_documents(engine, item_id)
    if regenerate or not documents:
        try:
            made = closure_record(engine, item_id, actor)
        except signing.SigningUnavailable as exc:
            raise signing.SigningUnavailable(
                f"问题 {item_id} 还没有销号单：{exc.message}；配置后再运行 rectify items closure {item_id} --out 文件.pdf") from None
        return document_file(engine, made["id"])
    return document_file(engine, documents[0]["id"])


SIGNATURE_DIGEST_RULE = (
    "digest = SHA-256( canonical JSON of {item_id, seq, task_id, step, signer: {id, name, role, unit}, decision, "
    "opinion, signed_at, payload, prev_digest} ); canonical JSON = keys sorted, UTF-8 (ensure_ascii off), "
    "separators ',' and ':', times in UTC ISO 8601 with microseconds; the first prev_digest is 64 zeros"
)


def signature_chain_json(engine, item_id: int) -> dict:
    """The item's signature chain with everything needed to recompute each digest offline."""
    with engine.db.reading() as session:
        item = get_item(session, item_id)
        chain = verify_item_chain(session, item_id)
        rows = session.execute(select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)).scalars()
        signatures = [{
            "item_id": s.item_id, "seq": s.seq, "task_id": s.task_id, "step": s.step,
            "signer": {"id": s.signer_id, "name": s.signer_name, "role": s.role, "unit": s.unit_name},
            "decision": s.decision, "opinion": s.opinion,
            "signed_at": s.signed_at.isoformat(timespec="microseconds"),
            "payload": s.payload, "prev_digest": s.prev_digest, "digest": s.digest,
        } for s in rows]
        return {
            "id": item_id, "format": "rectify.signature-chain/1", "item": item_facts(item), "status": item.status,
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "chain_ok": chain.ok, "chain_problem": chain.problem, "count": len(signatures),
            "digest_rule": SIGNATURE_DIGEST_RULE, "exported_at": CLOCK.now().isoformat(), "signatures": signatures,
        }


def signature_chain_bytes(engine, item_id: int) -> bytes:
    """The same, as a UTF-8 JSON file (indented for people; digests do not depend on the layout)."""
    return json.dumps(signature_chain_json(engine, item_id), ensure_ascii=False, indent=2).encode("utf-8")
