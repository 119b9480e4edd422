"""Signed closure records (销号单): made after an item closes and on request, stored by SHA-256 with
a `documents` row (never updated or deleted), listed per item; and the signature chain as JSON.

When an item closes, the closing transaction records `ItemClosed`; its outbox handler
(`RecordOnClose`) makes the first record after the commit, so the sign-off never waits for
WeasyPrint. If no usable signing certificate is configured (none, expired, not yet valid), the item
still closes — the sign-off is the act that counts; the record is a proof of it that can be made
later — and the audit log says why no record was made (`closure.unsigned`).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import crypto
from engine.clock import CLOCK
from engine.closure import signing
from engine.closure.authority import ca_certificates
from engine.closure.content import record_data, record_digest
from engine.closure.personal import check_personal_signature
from engine.errors import Conflict, NotFound
from engine.events import ItemClosed
from engine.ledger.items import get_item
from engine.people.keys import certificate_pems
from engine.store import audit
from engine.store import outbox as outbox_rows
from engine.store.models import STATUS_CLOSED, Document, Signature, User
from engine.work.signoff import signed_item_fields, verify_item_chain

if TYPE_CHECKING:
    from engine.core import Engine

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


@dataclass(frozen=True)
class RenderedRecord:
    """A signed record made from the database, not yet stored."""

    item_id: int
    pdf: bytes
    digest: str
    code: str
    made_at: datetime
    signatures: int
    cert_fingerprint: str
    actor: str | None


def render_record(engine: Engine, item_id: int, actor: str | None,
                  credentials: signing.Credentials) -> RenderedRecord:
    """Render and sign a record of the closed item from a read-only session: the slow part
    (WeasyPrint, pyHanko) holds no write lock."""
    from engine.closure.pdf import render_and_sign  # WeasyPrint loads only when a record is made

    with engine.db.reading() as session:
        item = get_item(session, item_id)
        if item.status != STATUS_CLOSED:
            raise Conflict(f"问题 {item_id} 尚未销号（当前状态：{item.status}），不能生成销号单")
        record = record_data(engine, session, item)
    digest = record_digest(record)
    code, now = new_code(), engine.clock.now()
    pdf = render_and_sign(record, digest, code, now.isoformat(), credentials, engine.settings.timezone)
    return RenderedRecord(item_id, pdf, digest, code, now, record["bounds"]["signatures"],
                          credentials.fingerprint, actor)


def store_record(engine: Engine, session: Session, rendered: RenderedRecord) -> Document:
    """Keep a rendered record: its file by SHA-256, its `documents` row and the audit entry, in the
    caller's transaction."""
    sha = engine.closure_files.put(rendered.pdf)
    doc = Document(kind=KIND_CLOSURE, item_id=rendered.item_id, sha256=sha, size=len(rendered.pdf),
                   verification_code=rendered.code, record_digest=rendered.digest,
                   cert_fingerprint=rendered.cert_fingerprint, created_at=rendered.made_at, created_by=rendered.actor)
    session.add(doc)
    session.flush()
    audit.append(session, "closure.generate", "document", doc.id, rendered.actor, item=rendered.item_id, sha256=sha,
                 verification_code=rendered.code, record_digest=rendered.digest, signatures=rendered.signatures)
    return doc


class RecordOnClose:
    """The outbox handler of `ItemClosed`: the item's first closure record, moments after the
    closing sign-off committed. Without a usable signing certificate the item stays closed and the
    audit log says why no record was made (`closure.unsigned`); a record is made later with
    `rectify items closure ID`. Any other failure (rendering, disk) leaves the event for a retry,
    shown to the administrator, so a broken renderer is noticed."""

    def prepare(self, engine: Engine, event: ItemClosed) -> RenderedRecord | str | None:
        with engine.db.reading() as session:
            user = session.get(User, event.actor_id) if event.actor_id else None
            actor = user.name if user else None
            if get_item(session, event.item_id).status != STATUS_CLOSED:
                return None  # reopened (回头看) before its record was made: there is no closed state to record
        try:
            credentials = signing.credentials(engine)
        except signing.SigningUnavailable as exc:
            return exc.message
        return render_record(engine, event.item_id, actor, credentials)

    def apply(self, engine: Engine, session: Session, event: ItemClosed, prepared) -> None:
        if isinstance(prepared, RenderedRecord):
            store_record(engine, session, prepared)
        elif isinstance(prepared, str):
            audit.append(session, "closure.unsigned", "item", event.item_id, None, reason=f"销号单未生成：{prepared}",
                         remedy=f"配置证书后运行 rectify items closure {event.item_id} --out 文件.pdf")


def closure_record(engine: Engine, item_id: int, actor: str | None = None) -> dict:
    """Make a new signed record of a closed item (earlier ones are kept)."""
    rendered = render_record(engine, item_id, actor, signing.credentials(engine))
    with engine.db.transaction() as session:
        if get_item(session, item_id).status != STATUS_CLOSED:
            raise Conflict(f"问题 {item_id} 已重新打开，不能生成销号单")
        return document_view(store_record(engine, session, rendered))


def item_closure_documents(engine: Engine, item_id: int) -> list[dict]:
    """The item's closure records, newest first; the first is the one to hand out."""
    with engine.db.reading() as session:
        get_item(session, item_id)
        rows = session.execute(select(Document).where(Document.item_id == item_id, Document.kind == KIND_CLOSURE)
                               .order_by(Document.id.desc())).scalars().all()
        return [document_view(d) | {"latest": i == 0} for i, d in enumerate(rows)]


def closure_pending(session: Session, item_id: int) -> bool:
    """Whether the item's closing still waits for its record to be made (an unhandled ItemClosed)."""
    return any(row.name == ItemClosed.name for row in outbox_rows.pending(session, item_id))


def document_file(engine: Engine, document_id: int) -> tuple[dict, bytes]:
    """A document's row and its bytes, checked against its SHA-256."""
    with engine.db.reading() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            raise NotFound(f"文档 {document_id} 不存在")
        view = document_view(doc)
    return view, engine.closure_files.read(view["sha256"], verify=True)


def latest_closure_pdf(engine: Engine, item_id: int, actor: str | None = None,
                       regenerate: bool = False) -> tuple[dict, bytes]:
    """The item's latest record (made now if asked to, or if the item closed without one). A record
    still waiting in the outbox is made first, so asking never makes a second one."""
    documents = item_closure_documents(engine, item_id)
    if not documents and not regenerate:
        engine.outbox.run(item_id=item_id)
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


PERSONAL_SIGNATURE_RULE = (
    "signature = the signer's own signature (base64) over the ASCII bytes of digest, by signature_algorithm "
    "(ecdsa-p256-sha256: ECDSA P-256 with SHA-256, DER; rsa-pkcs1v15-sha256: RSA PKCS#1 v1.5 with SHA-256) with "
    "the key of certificate (PEM), which the body's CA (ca_certificates; `rectify signing show --ca`) issued; "
    "empty on signatures made before personal keys existed"
)


def signature_chain_json(engine: Engine, item_id: int) -> dict:
    """The item's signature chain with everything needed to recompute each digest offline."""
    from engine.work.superseded import superseded_of

    with engine.db.reading() as session:
        item = get_item(session, item_id)
        chain = verify_item_chain(session, item_id)
        rows = session.execute(select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)).scalars().all()
        pems = certificate_pems(session, [s.certificate_id for s in rows])
        superseded = superseded_of(session, item_id)  # set aside by a rewind; not part of the digests
        signatures = [{
            "item_id": s.item_id, "seq": s.seq, "task_id": s.task_id, "step": s.step,
            "signer": {"id": s.signer_id, "name": s.signer_name, "role": s.role, "unit": s.unit_name},
            "decision": s.decision, "opinion": s.opinion,
            "signed_at": s.signed_at.isoformat(timespec="microseconds"),
            "payload": s.payload, "prev_digest": s.prev_digest, "digest": s.digest,
            "signature": s.signature, "signature_algorithm": s.signature_algorithm,
            "certificate": pems.get(s.certificate_id), "superseded": superseded.get(s.id),
        } for s in rows]
        authorities = ca_certificates(engine)
        problems = [p for e in signatures if e["signature"] and (p := check_personal_signature(e, authorities))]
        return {
            "id": item_id, "format": "rectify.signature-chain/1", "item": signed_item_fields(item), "status": item.status,
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "chain_ok": chain.ok, "chain_problem": chain.problem, "count": len(signatures),
            "personal_signatures": sum(1 for e in signatures if e["signature"]), "personal_problems": problems,
            "digest_rule": SIGNATURE_DIGEST_RULE, "signature_rule": PERSONAL_SIGNATURE_RULE,
            "ca_certificates": [c.public_bytes(crypto.Encoding.PEM).decode("ascii") for c in authorities],
            "exported_at": CLOCK.now().isoformat(), "signatures": signatures,
        }


def signature_chain_bytes(engine: Engine, item_id: int) -> bytes:
    """The same, as a UTF-8 JSON file (indented for people; digests do not depend on the layout)."""
    return json.dumps(signature_chain_json(engine, item_id), ensure_ascii=False, indent=2).encode("utf-8")
