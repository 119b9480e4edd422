"""Superseded signatures: when an item is sent back to an earlier step (退回到任意环节,
engine/ledger/rewind.py), the signatures given from that step on are no longer what the item stands
on. Signature rows never change (database triggers refuse it), so supersession is a row of its own
here — append-only too — and every view of the chain shows it beside the signature it concerns."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.canonical import digest_of
from engine.store import audit
from engine.store.models import Base, Signature


class SupersededSignature(Base):
    """One signature set aside by a rewind: it stays on the chain, marked, never deleted."""

    __tablename__ = "superseded_signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"), unique=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), index=True)
    step: Mapped[str] = mapped_column(String(200))  # the step the item was sent back to
    reason: Mapped[str] = mapped_column(Text)
    superseded_at: Mapped[datetime]


def superseded_of(session: Session, item_id: int) -> dict[int, dict]:
    """Signature id → why it was superseded, for one item's signatures."""
    rows = session.execute(
        select(SupersededSignature).join(Signature, Signature.id == SupersededSignature.signature_id)
        .where(Signature.item_id == item_id)).scalars()
    return {r.signature_id: {"change_id": r.change_id, "step": r.step, "reason": r.reason,
                             "at": r.superseded_at.isoformat()} for r in rows}


def superseded_digest(row) -> str:
    """What the audit chain seals of a supersession (a row or its insert values)."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return digest_of({key: get(key) for key in ("signature_id", "change_id", "step", "reason", "superseded_at")})


def seal_superseded(session: Session, rows) -> None:
    """Seal supersessions like signatures: one dropped trigger and a changed or deleted row is caught by
    `rectify audit verify` all the same."""
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda key, r=row: getattr(r, key)
        audit.seal(session, "superseded_signatures", str(get("signature_id")), superseded_digest(row))
