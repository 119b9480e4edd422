"""审计日志: append-only, each row's hash covers its content and the previous row's hash."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.canonical import GENESIS, digest_of
from engine.clock import CLOCK
from engine.store.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from engine.core import Engine


def _entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return digest_of({
        "prev": prev_hash, "id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id, "details": entry.details,
    })


def append(session: Session, action: str, object_type: str, object_id: Any, actor: str | None = None,
           **details: Any) -> AuditEntry:
    """Append one row. Call it last in a transaction: it takes the chain's head lock until commit."""
    # The UPDATE comes first so that concurrent appenders queue on the head row (PostgreSQL row lock,
    # SQLite write lock) instead of both reading the same head and forking the chain.
    head = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count + 1)
        .returning(AuditHead.count, AuditHead.last_hash)
    ).one_or_none()
    if head is None:  # a database made without the migrations' seed row
        session.add(AuditHead(id=1, last_hash=GENESIS, count=1))
        session.flush()
        head = (1, GENESIS)
    count, last_hash = head
    entry = AuditEntry(
        id=count, at=CLOCK.now(), actor=actor, action=action, object_type=object_type,
        object_id=str(object_id), details=details, prev_hash=last_hash, hash="",
    )
    entry.hash = _entry_hash(last_hash, entry)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash))
    return entry


@dataclass
class ChainReport:
    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in id order; name the first row whose hash or link does not hold."""
    prev, count, expected_id = GENESIS, 0, 1
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if entry.id != expected_id:
            return ChainReport(False, count, expected_id, f"第 {expected_id} 行缺失（链条中断）")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.id, f"第 {entry.id} 行的前序哈希与上一行不符")
        if _entry_hash(prev, entry) != entry.hash:
            return ChainReport(False, count, entry.id, f"第 {entry.id} 行内容与其哈希不符（已被篡改）")
        prev, count, expected_id = entry.hash, count + 1, expected_id + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.count != count or head.last_hash != prev):
        return ChainReport(False, count, count + 1, "审计日志末尾的行被删除或链头不符")
    return ChainReport(True, count)


def chain_status(engine: Engine) -> dict:
    """The audit chain's state as plain values (`rectify audit verify`, the admin page)."""
    with engine.db.reading() as session:
        report = verify_chain(session)
    return {"id": "audit", "ok": report.ok, "rows": report.rows, "first_broken_id": report.first_broken_id,
            "reason": report.reason}
