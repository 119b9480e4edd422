"""签字 (docs/domain.md, sign-off): sign-off records, each chained to the item's previous one by its digest."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.canonical import GENESIS, digest_of
from engine.clock import CLOCK
from engine.errors import Forbidden
from engine.people.keys import personal_signature
from engine.process.assignment import reviewed_records
from engine.store import audit
from engine.store.models import InboxTask, Item, Signature, User

if TYPE_CHECKING:
    from engine.core import Engine

DECISION_TEXT = {"approve": "通过", "reject": "退回"}
# Process variables that say nothing about the work under review.
_ENGINE_KEYS = {"decision", "opinion"}


def signed_item_fields(item: Item) -> dict:
    """The item as a signature binds it: what a signer answers for (part of every digest)."""
    return {
        "id": item.id, "round": item.round.name, "number": item.number, "title": item.title,
        "category": item.category, "unit": item.unit.name, "person": item.person.name,
        "leader": item.leader.name, "deadline": item.deadline.isoformat(),
    }


def evidence_hashes(data: Any) -> list[str]:
    """Every evidence file hash found anywhere in the data under review."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("sha256"), str) and "name" in value:
                found.add(value["sha256"])
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(data)
    return sorted(found)


def check_separation(session: Session, task: InboxTask, reviewed: list[str], signer: User) -> None:
    """Refuse a signer who did the work under review (谁签字谁负责: 审签与经办分离)."""
    if signer.id in {r.completed_by for r in reviewed_records(session, task.item_id, task.bpmn_id, reviewed)}:
        raise Forbidden("您办理了本环节所审核的工作，不能自己审签（谁签字谁负责，审签须与经办分离）")


def sign(engine: Engine, session: Session, item: Item, task: InboxTask, signer: User, password: str, decision: str,
         opinion: str, approved_data: dict) -> Signature:
    """Write the signature record; its digest covers the item, the approved data, the evidence
    hashes and the previous signature's digest, and the signer's own key signs that digest (their
    password unwraps it: engine/people/keys.py)."""
    previous = session.execute(
        select(Signature).where(Signature.item_id == item.id).order_by(Signature.seq.desc()).limit(1)
    ).scalar_one_or_none()
    approved = {k: v for k, v in approved_data.items() if k not in _ENGINE_KEYS}
    payload = {
        "item": signed_item_fields(item),
        "step": {"id": task.bpmn_id, "name": task.name},
        "approved_data": approved,
        "evidence": evidence_hashes(approved),
    }
    record = Signature(
        item_id=item.id, seq=(previous.seq + 1) if previous else 1, task_id=task.id, step=task.name,
        signer_id=signer.id, signer_name=signer.name, role=task.lane_role, unit_name=signer.unit.name,
        decision=decision, opinion=opinion or "", signed_at=CLOCK.now(), payload=payload,
        prev_digest=previous.digest if previous else GENESIS, digest="",
    )
    record.digest = signature_digest(record)
    certificate, record.signature = personal_signature(engine, session, signer, password, record.digest)
    record.certificate_id, record.signature_algorithm = certificate.id, certificate.algorithm
    session.add(record)
    audit.seal(session, "signatures", record.task_id, record.digest)
    return record


def signature_digest(record: Signature) -> str:
    return digest_of({
        "item_id": record.item_id, "seq": record.seq, "task_id": record.task_id, "step": record.step,
        "signer": {"id": record.signer_id, "name": record.signer_name, "role": record.role, "unit": record.unit_name},
        "decision": record.decision, "opinion": record.opinion, "signed_at": record.signed_at,
        "payload": record.payload, "prev_digest": record.prev_digest,
    })


@dataclass
class ChainCheck:
    ok: bool
    count: int
    problem: str = ""


def verify_item_chain(session: Session, item_id: int) -> ChainCheck:
    prev, count = GENESIS, 0
    for record in session.execute(
        select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)
    ).scalars():
        count += 1
        if record.seq != count:
            return ChainCheck(False, count, f"第 {count} 个签字缺失")
        if record.prev_digest != prev:
            return ChainCheck(False, count, f"第 {count} 个签字与前一个签字的链接不符")
        if signature_digest(record) != record.digest:
            return ChainCheck(False, count, f"第 {count} 个签字（{record.signer_name}）的内容与摘要不符，已被篡改")
        prev = record.digest
    return ChainCheck(True, count)


def signature_view(record: Signature, superseded: dict | None = None) -> dict:
    """A signature as people read it; `superseded` (engine/work/superseded.py superseded_of) marks
    those set aside when the item was sent back to an earlier step — still on the chain."""
    marked = (superseded or {}).get(record.id)
    return {
        "id": record.id, "seq": record.seq, "step": record.step, "signer": record.signer_name, "role": record.role,
        "unit": record.unit_name, "decision": record.decision, "decision_text": DECISION_TEXT.get(record.decision, record.decision),
        "opinion": record.opinion, "signed_at": record.signed_at.isoformat(), "digest": record.digest,
        "prev_digest": record.prev_digest, "superseded": marked is not None, "superseded_by": marked,
        # the signer's own signature over the digest (none on sign-offs from before personal keys)
        "personal": bool(record.signature), "signature_algorithm": record.signature_algorithm,
    }
