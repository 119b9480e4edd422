"""审计日志: append-only, each row chained to the previous one — with an HMAC under a key kept outside
the database (engine/store/keys.py), so that whoever can write the database but lacks the key cannot
edit, delete or re-chain rows without it showing.

The chain also *seals* the other append-only records: every task record and signature written in a
transaction is sealed by its digest in that transaction's audit entry (`details["sealed"]`), so an
edited `task_records.completed_by` or a signature re-digested after its opinion was changed no
longer matches its seal. The head row carries the key's MAC over its count and last hash, so
cutting rows off the end shows too; signed checkpoints kept outside the system (engine/integrity.py)
catch a rollback to an earlier, consistent state.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from engine.canonical import GENESIS, canonical_json, digest_of
from engine.clock import CLOCK
from engine.store.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from engine.core import Engine

KEY = "rectify.audit_key"  # session.info: the key (store/db.py puts it on every writing session)
SEALS = "rectify.seals"  # session.info: {table: {row key: digest}} written in this unit of work
ENTRY_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash")
HEAD = "rectify.audit_head"  # session.info: (count, last hash, keyed_from) as this transaction last saw them


def mac(key: bytes, value: Any) -> str:
    return hmac.new(key, canonical_json(value).encode("utf-8"), hashlib.sha256).hexdigest()


def entry_hash(prev_hash: str, entry: AuditEntry, key: bytes | None) -> str:
    """The row's link: an HMAC with the key (rows from `keyed_from` on), SHA-256 before that."""
    value = {"prev": prev_hash, "id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
             "object_type": entry.object_type, "object_id": entry.object_id, "details": entry.details}
    return mac(key, value) if key is not None else digest_of(value)


def head_mac(key: bytes, count: int, last_hash: str, keyed_from: int | None) -> str:
    return mac(key, {"head": True, "count": count, "last_hash": last_hash, "keyed_from": keyed_from})


TASK_RECORD_FIELDS = ("task_id", "instance_id", "item_id", "bpmn_id", "name", "kind", "outcome", "completed_by",
                      "completed_at", "data")


def task_record_digest(row) -> str:
    """What a task record's seal covers: every field of the row (a TaskRecord or the dict inserted)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return digest_of({k: get(k) for k in TASK_RECORD_FIELDS})


def seal(session: Session, table: str, row_key: str, digest: str) -> None:
    """Have a new append-only row sealed by this transaction's audit entry."""
    session.info.setdefault(SEALS, {}).setdefault(table, {})[row_key] = digest


def seal_pending(session: Session) -> None:
    """Before commit: rows sealed after the transaction's last audit entry get an entry of their own."""
    if session.info.get(SEALS):
        append(session, "seal", "records", "*")


def append(session: Session, action: str, object_type: str, object_id: Any, actor: str | None = None,
           **details: Any) -> AuditEntry:
    """Append one row. Call it last in a transaction: it takes the chain's head lock until commit."""
    return append_many(session, [(action, object_type, object_id, actor, details)])[-1]


_HEAD = AuditHead.__table__
MOVE_HEAD = _HEAD.update().where(
    _HEAD.c.id == 1, _HEAD.c.count == bindparam("seen_count"), _HEAD.c.last_hash == bindparam("seen_hash")
).values(count=bindparam("new_count"), last_hash=bindparam("new_hash"), keyed_from=bindparam("new_keyed_from"),
         head_mac=bindparam("new_mac"))


_LOG = AuditEntry.__table__
# PostgreSQL: the head moved and the row appended by one statement; the row is inserted only if the head
# moved (nobody appended since it was read).
MOVE_HEAD_AND_APPEND = _LOG.insert().from_select(
    list(ENTRY_COLUMNS),
    select(*[bindparam(f"entry_{column}", type_=_LOG.c[column].type) for column in ENTRY_COLUMNS])
    .where(exists(MOVE_HEAD.returning(_HEAD.c.id).cte("moved").select()))).returning(_LOG.c.id)


def _entry_values(entry: AuditEntry, prefix: str = "") -> dict:
    return {prefix + column: getattr(entry, column) for column in ENTRY_COLUMNS}


def remember_head(session: Session, count: int, last_hash: str, keyed_from: int | None) -> None:
    """The head as this transaction read it (with the rows it works on): the next append then moves it
    with one conditional UPDATE instead of a locking read and a write."""
    session.info[HEAD] = (count, last_hash, keyed_from)


def append_many(session: Session, rows: list[tuple[str, str, Any, str | None, dict]]) -> list[AuditEntry]:
    """Append several rows (action, object type, object id, actor, details) with one move of the head:
    what a batch of work (the timer sweep) audits, at the cost of one append. Seals pending in the
    transaction go with the last row."""
    key = session.info.get(KEY)
    sealed = session.info.pop(SEALS, None)
    seen = session.info.pop(HEAD, None)
    entries = None
    if seen is not None:
        # Optimistic: chain onto the head as read earlier, and move it only if nobody appended since
        # (count and hash unchanged). PostgreSQL re-checks that condition after a concurrent appender
        # commits, so of two only one succeeds; the other takes the locking path below.
        entries, head = _chained(rows, *seen, key, sealed)
        move = {"seen_count": seen[0], "seen_hash": seen[1], "new_count": head[0], "new_hash": head[1],
                "new_keyed_from": head[2], "new_mac": head[3]}
        if len(entries) == 1 and session.get_bind().dialect.name == "postgresql":
            if session.execute(MOVE_HEAD_AND_APPEND, move | _entry_values(entries[0], "entry_")).first():
                session.info[HEAD] = head[:3]
                return entries
            entries = None
        elif session.execute(MOVE_HEAD, move).rowcount != 1:
            entries = None
    if entries is None:
        # The UPDATE comes first so that concurrent appenders queue on the head row (PostgreSQL row lock,
        # SQLite write lock) instead of both reading the same head and forking the chain.
        locked = session.execute(
            update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count + len(rows))
            .returning(AuditHead.count, AuditHead.last_hash, AuditHead.keyed_from)
        ).one_or_none()
        if locked is None:  # a database made without the migrations' seed row
            session.add(AuditHead(id=1, last_hash=GENESIS, count=len(rows), keyed_from=1))
            session.flush()
            locked = (len(rows), GENESIS, 1)
        entries, head = _chained(rows, locked[0] - len(rows), locked[1], locked[2], key, sealed)
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(
            last_hash=head[1], keyed_from=head[2], head_mac=head[3]))
    session.execute(_LOG.insert(), [_entry_values(entry) for entry in entries])
    session.info[HEAD] = head[:3]  # this transaction now holds the head: its next append is one UPDATE
    return entries


def _chained(rows, count_before: int, last_hash: str, keyed_from: int | None, key: bytes | None, sealed):
    """The new entries chained after (count_before, last_hash), and the head after them: (count,
    last hash, keyed_from, MAC)."""
    first = count_before + 1
    if keyed_from is None and key is not None:
        keyed_from = first  # the first row appended with a key starts the keyed chain
    if keyed_from is not None and key is None:
        raise RuntimeError("the audit chain is keyed but this session has no audit key")
    entries = []
    for offset, (action, object_type, object_id, actor, details) in enumerate(rows):
        count = first + offset
        if sealed and offset == len(rows) - 1:
            details = {**details, "sealed": sealed}
        entry = AuditEntry(
            id=count, at=CLOCK.now(), actor=actor, action=action, object_type=object_type,
            object_id=str(object_id), details=details, prev_hash=last_hash, hash="",
        )
        entry.hash = last_hash = entry_hash(last_hash, entry,
                                            key if keyed_from is not None and count >= keyed_from else None)
        entries.append(entry)
    last = count_before + len(rows)
    return entries, (last, last_hash, keyed_from, head_mac(key, last, last_hash, keyed_from) if key is not None else None)


@dataclass
class ChainReport:
    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""
    sealed: dict | None = None  # {table: {row key: digest}} gathered from the chain
    last_hash: str = ""  # of the last row walked (the `rows`-th), when ok


def verify_chain(session: Session, key: bytes | None = None, after: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in id order; name the first row whose link does not hold. With the key, the
    keyed part and the head's MAC are checked too, and the seals gathered for engine/integrity.py.
    `after` (row id, its hash): continue from a row verified before — only the rows after it are walked
    (and only their seals gathered); the row itself must still carry that hash."""
    head = session.get(AuditHead, 1)
    keyed_from = head.keyed_from if head is not None else None
    prev, count, expected_id, sealed = GENESIS, 0, 1, {}
    query = select(AuditEntry).order_by(AuditEntry.id)
    if after is not None:
        last = session.get(AuditEntry, after[0])
        keyed = keyed_from is not None and after[0] >= keyed_from
        if last is None or last.hash != after[1] or entry_hash(last.prev_hash, last, key if keyed else None) != last.hash:
            return ChainReport(False, after[0] - 1, after[0], f"第 {after[0]} 行在上次校验之后被改动或删除")
        prev, count, expected_id = after[1], after[0], after[0] + 1
        query = query.where(AuditEntry.id > after[0])
    for entry in session.execute(query).scalars():
        if entry.id != expected_id:
            return ChainReport(False, count, expected_id, f"第 {expected_id} 行缺失（链条中断）")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.id, f"第 {entry.id} 行的前序哈希与上一行不符")
        keyed = keyed_from is not None and entry.id >= keyed_from
        if keyed and key is None:
            break  # without the key only the unkeyed beginning can be checked
        if entry_hash(prev, entry, key if keyed else None) != entry.hash:
            return ChainReport(False, count, entry.id, f"第 {entry.id} 行内容与其哈希不符（已被篡改）")
        for table, rows in (entry.details or {}).get("sealed", {}).items():
            sealed.setdefault(table, {}).update(rows)
        prev, count, expected_id = entry.hash, count + 1, expected_id + 1
    if head is not None and key is None and keyed_from is None and (head.count != count or head.last_hash != prev):
        return ChainReport(False, count, count + 1, "审计日志末尾的行被删除或链头不符")
    if head is not None and key is not None:
        if head.count != count or head.last_hash != prev:
            return ChainReport(False, count, count + 1, "审计日志末尾的行被删除或链头不符")
        if keyed_from is not None and head.head_mac != head_mac(key, head.count, head.last_hash, keyed_from):
            return ChainReport(False, count, count + 1, "审计日志的链头被改动（与密钥校验值不符）：末尾的行可能被删除")
    return ChainReport(True, count, sealed=sealed, last_hash=prev)


FULL_CHECK_EVERY = timedelta(hours=1)
_verified: WeakKeyDictionary = WeakKeyDictionary()  # engine → (walked in full at, last row id, its hash)


def chain_status(engine: Engine) -> dict:
    """The audit chain's state as plain values (the admin page; `rectify audit verify` checks more).
    The whole chain is walked at most once an hour per process; in between, only the rows added since
    (and that the last row walked is unchanged, and the head) — the walk grows with the chain, which a
    page must not."""
    now = CLOCK.now()
    known = _verified.get(engine)
    fresh = known is not None and now - known[0] < FULL_CHECK_EVERY and known[1] > 0
    with engine.db.reading() as session:
        report = verify_chain(session, engine.db.audit_key, after=known[1:] if fresh else None)
    walked_at = known[0] if fresh else now
    if report.ok and report.rows and engine.db.audit_key is not None:  # without the key the walk stops early
        _verified[engine] = (walked_at, report.rows, report.last_hash)
    else:
        _verified.pop(engine, None)
    return {"id": "audit", "ok": report.ok, "rows": report.rows, "first_broken_id": report.first_broken_id,
            "reason": report.reason, "walked_at": walked_at.astimezone(ZoneInfo(engine.settings.timezone))
            .strftime("%Y-%m-%d %H:%M")}
