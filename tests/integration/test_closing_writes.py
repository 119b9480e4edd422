"""A unit of work's closing inserts (engine/store/closing_writes.py): on PostgreSQL a completion's evidence
row, its bytes, its notifications and its events reach the server as one statement; on both databases
they are written with the unit or, when any part fails, none of it is."""
from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import FIX, do, evidence, task_id
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from engine import Engine
from engine.notify.centre import Notification
from engine.people.directory import user_id_of
from engine.store import closing_writes
from engine.store.models import EvidenceFile
from engine.store.outbox import OutboxEvent
from engine.work.completion import complete_task

RECEIPT = b"%PDF-1.4 closing writes receipt"


def _counts(engine) -> tuple[int, int, int]:
    with engine.db.reading() as session:
        return tuple(session.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (EvidenceFile, Notification, OutboxEvent))


def _sent(engine, action) -> list[str]:
    statements = []

    def keep(_conn, _cursor, statement, *_):
        statements.append(" ".join(statement.split()))
    event.listen(engine.db.engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", keep)
    return statements


def test_a_completion_writes_its_closing_rows_in_one_statement_on_postgresql(engine, item):
    store = Engine(replace(engine.settings, file_store="database"))  # the bytes go to the database too
    before = _counts(store)
    task, officer = task_id(store, item, "fix_task"), user_id_of(store, "张伟")
    sent = _sent(store, lambda: complete_task(store, task, dict(FIX), officer, None, evidence("回单.pdf", RECEIPT)))
    evidence_rows, notifications, events = (after - was for after, was in zip(_counts(store), before))
    assert (evidence_rows, notifications, events) == (1, 1, 1)  # 审核 assigned: its notification and its event
    assert store.evidence.files.read(store.evidence.files.put(RECEIPT)) == RECEIPT
    tables = ("evidence_files", "stored_files", "notifications", "outbox")
    if store.db.is_sqlite:  # in process: each insert runs as it comes
        assert [t for t in tables for s in sent if s.startswith(f"INSERT INTO {t} ")] == list(tables)
    else:
        [closing] = [s for s in sent if "INSERT INTO outbox" in s]
        assert all(f"INSERT INTO {table} " in closing for table in tables)
        assert len(sent) <= 8, sent
    store.close()


def test_held_inserts_are_undone_with_the_unit_that_held_them(engine, item):
    before = _counts(engine)
    with pytest.raises(RuntimeError), engine.db.transaction() as session:
        closing_writes.hold(session, Notification.__table__.insert(), [
            {"user_id": 1, "kind": "测试", "item_id": item, "task_id": None, "text": "不应写入",
             "created_at": engine.clock.now(), "read_at": None}])
        raise RuntimeError("the action fails after holding its inserts")
    assert _counts(engine) == before


def test_a_held_insert_that_fails_takes_the_whole_unit_with_it(engine, item):
    """A notification for nobody (no such user) fails at the commit, in the one closing statement on
    PostgreSQL: the completion's task record, evidence and events are not written either."""
    before = _counts(engine)

    def nobody(session, *_args):
        closing_writes.hold(session, Notification.__table__.insert(), [
            {"user_id": 10**9, "kind": "测试", "item_id": item, "task_id": None, "text": "无此人",
             "created_at": engine.clock.now(), "read_at": None}])
    engine.db.before_commit.insert(0, nobody)
    try:
        with pytest.raises(IntegrityError):
            do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    finally:
        engine.db.before_commit.remove(nobody)
    assert _counts(engine) == before
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())  # the task is still open, and completes
    assert _counts(engine)[0] == before[0] + 1


def test_many_files_in_one_unit_are_sent_as_they_come_in_order(engine, monkeypatch):
    """Past the unit's budget of held bytes, what was held is written and the new insert follows at once
    (a restore storing hundreds of files never makes one statement of them all)."""
    store = Engine(replace(engine.settings, file_store="database"))
    monkeypatch.setattr(closing_writes, "MAX_HELD_BYTES", 100)
    contents = [bytes([n]) * 60 for n in range(5)]
    with store.db.transaction():
        sent = _sent(store, lambda: [store.evidence.files.put(c) for c in contents])
    assert all(store.evidence.files.read(store.evidence.files.put(c)) == c for c in contents)
    if not store.db.is_sqlite:  # 60 bytes fit, 120 do not: each file goes when the next one comes
        assert sum("INSERT INTO stored_files" in s for s in sent) == 4
    store.close()
