"""Domain events and the outbox: written with the change, handled after the commit exactly once —
after a crash, with two workers at once, and after a failing handler — on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import FIX, close_immediate_item, do, evidence, sign
from sqlalchemy import select

from engine import Engine
from engine.closure import signing
from engine.closure.records import RecordOnClose, item_closure_documents
from engine.ledger.detail import item_detail
from engine.store.models import AuditEntry
from engine.store.outbox import OutboxEvent

ROOT = Path(__file__).resolve().parents[2]


def events(engine, name=None):
    with engine.db.reading() as session:
        query = select(OutboxEvent).order_by(OutboxEvent.id)
        if name:
            query = query.where(OutboxEvent.name == name)
        return [(r.name, r.payload, r.handled_at is not None) for r in session.execute(query).scalars()]


def with_dispatch(engine, dispatch: str) -> Engine:
    return Engine(replace(engine.settings, outbox_dispatch=dispatch))


@pytest.fixture
def signed(engine):
    signing.init_dev_certificate(engine, "市政工程管理处", actor="tests")
    return engine


def test_steps_record_their_events_in_the_outbox(engine, item):
    assigned = events(engine, "TaskAssigned")
    assert [(p["step"], p["role"], handled) for _, p, handled in assigned] == [("落实整改", "责任人", True)]
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜", "reject", "请补充银行回单")
    [(_, returned, handled)] = events(engine, "TaskReturned")
    assert returned["opinion"] == "请补充银行回单" and returned["step"] == "审核" and handled  # no handler yet
    assert [p["step"] for _, p, _ in events(engine, "TaskAssigned")] == ["落实整改", "审核", "落实整改"]


def test_closing_commits_before_its_record_is_made(signed, item):
    deferred = with_dispatch(signed, "deferred")
    try:
        assert close_immediate_item(deferred, item)["item_status"] == "已销号"
        assert item_closure_documents(deferred, item) == []  # nothing rendered in the closing transaction
        [(name, payload, handled)] = events(deferred, "ItemClosed")
        assert payload["item_id"] == item and not handled
        report = deferred.outbox.run()
        assert (report.handled, report.failed) == (1, 0)
        [record] = item_closure_documents(deferred, item)
        assert record["created_by"] == "陈刚"  # the closing signer, from the event
        assert deferred.outbox.run().handled == 0  # handled once: a second run makes nothing
        assert len(item_closure_documents(deferred, item)) == 1
    finally:
        deferred.close()


def test_inline_dispatch_makes_the_record_right_after_the_commit(signed, item):
    close_immediate_item(signed, item)
    assert len(item_closure_documents(signed, item)) == 1
    assert all(handled for _, _, handled in events(signed))


def test_two_workers_at_once_make_exactly_one_record(signed, item):
    deferred = with_dispatch(signed, "deferred")
    close_immediate_item(deferred, item)
    workers = [with_dispatch(signed, "deferred") for _ in range(2)]
    start = threading.Barrier(2)
    results = []

    def work(worker):
        start.wait()
        results.append(worker.outbox.run().handled)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == [0, 1]
    assert len(item_closure_documents(signed, item)) == 1
    for w in [deferred, *workers]:
        w.close()


def test_a_failing_handler_is_retried_later_and_shown(signed, item, monkeypatch):
    deferred = with_dispatch(signed, "deferred")
    close_immediate_item(deferred, item)

    def broken(self, engine, event):
        raise OSError("磁盘已满")

    monkeypatch.setattr(RecordOnClose, "prepare", broken)
    report = deferred.outbox.run()
    assert (report.handled, report.failed) == (0, 1) and "磁盘已满" in report.errors[0]["error"]
    [failing] = deferred.outbox.status()["failing"]
    assert failing["event"] == "ItemClosed" and failing["attempts"] == 1 and failing["item_id"] == item
    monkeypatch.undo()
    assert deferred.outbox.run().handled == 0  # backing off: not due again yet
    later = deferred.clock.now() + timedelta(minutes=5)
    assert deferred.outbox.run(now=later).handled == 1
    assert deferred.outbox.status() == {"pending": 0, "failing": []}
    assert len(item_closure_documents(deferred, item)) == 1
    deferred.close()


def test_without_a_certificate_the_item_closes_and_the_audit_log_says_why(engine, item):
    close_immediate_item(engine, item)
    assert item_detail(engine, item)["status"] == "已销号"
    assert item_closure_documents(engine, item) == []
    with engine.db.reading() as session:
        [details] = session.execute(select(AuditEntry.details).where(AuditEntry.action == "closure.unsigned")).scalars()
    assert "rectify items closure" in details["remedy"]
    assert events(engine, "ItemClosed")[0][2]  # handled: nothing left to retry


CRASHING_CLOSER = textwrap.dedent("""
    import os, sys, time
    from dataclasses import replace
    from engine import Engine, Settings
    from engine.closure.records import RecordOnClose
    from engine.people.directory import user_id_of
    from engine.work.completion import complete_task

    def stall(self, engine, event):
        open(sys.argv[2], "w").write("committed")  # the closing transaction has committed
        time.sleep(600)                             # ...and the process dies before the record

    RecordOnClose.prepare = stall
    engine = Engine(replace(Settings.from_env(), outbox_dispatch="inline"))
    complete_task(engine, sys.argv[1], {"decision": "approve", "opinion": "同意销号"},
                  user_id_of(engine, "陈刚"), os.environ["PASSWORD"])
""")


def test_a_crash_after_the_closing_commit_leaves_an_event_that_outbox_run_finishes(signed, item, tmp_path):
    from helpers import PASSWORD, task_id

    do(signed, item, "fix_task", "张伟", FIX, files=evidence())
    sign(signed, item, "unit_head_review", "李娜")
    gate = task_id(signed, item, "leader_signoff")
    env = {**os.environ, "RECTIFY_DATABASE_URL": signed.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(signed.settings.instance_path), "PASSWORD": PASSWORD,
           "PYTHONPATH": str(ROOT)}
    marker = tmp_path / "committed"
    child = subprocess.Popen([sys.executable, "-c", CRASHING_CLOSER, gate, str(marker)], env=env, cwd=ROOT,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the closing sign-off never committed"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()

    assert item_detail(signed, item)["status"] == "已销号"
    assert item_closure_documents(signed, item) == []
    [(_, _, handled)] = events(signed, "ItemClosed")
    assert not handled
    rectify = [str(ROOT / ".venv" / "bin" / "rectify")] if (ROOT / ".venv" / "bin" / "rectify").exists() \
        else [sys.executable, "-m", "engine.cli"]
    for _ in range(2):  # a second run finds nothing left
        done = subprocess.run([*rectify, "outbox", "run", "--json"], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert len(item_closure_documents(signed, item)) == 1
    assert events(signed, "ItemClosed")[0][2]
