"""The 整改情况报告 PDF of a large round made in the background (engine/reports/document_jobs.py): the job
lays it out, tells its progress while it does, stores the file; two requests share one job and a finished
current one is offered again; a failing layout leaves 失败 with its reason and no file; a job whose
process stopped is replaced. On SQLite (disk store) and PostgreSQL (database store)."""
from __future__ import annotations

import hashlib
import io
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from helpers import close_immediate_item, new_item, pdf_text

from engine import Engine
from engine.closure import signing
from engine.closure.records import item_closure_documents
from engine.errors import Conflict, NotFound
from engine.ledger.activities import add_activity
from engine.ledger.rounds import get_round
from engine.reports import document_jobs
from engine.reports.document_jobs import document_file, get_document_job, request_upward_pdf
from engine.reports.upward import upward_report, write_upward_pdf
from engine.store import audit
from engine.store.document_jobs import DocumentJob
from engine.store.file_prune import prune_files
from engine.store.models import IMMEDIATE
from engine.store.outbox import OutboxEvent, claim

ROUND = "测试轮次"


@pytest.fixture
def round_id(imported):
    return get_round(imported, ROUND)["id"]


def _outbox_rows(engine) -> list[tuple]:
    """(handled_at, last_error) of each DocumentQueued row."""
    with engine.db.reading() as session:
        return [(row.handled_at, row.last_error) for row in session.query(OutboxEvent).all()
                if row.name == "DocumentQueued"]


def test_the_job_lays_out_the_report_tells_its_progress_and_stores_the_file(imported, round_id, monkeypatch):
    engine, seen = imported, []
    original = document_jobs.write_upward_pdf

    def small_windows(report, target, progress):
        def watched(done, total, pages):
            progress(done, total, pages)
            with engine.db.reading() as session:  # what the job page reads meanwhile, from the database
                job = session.query(DocumentJob).one()
                seen.append((job.status, job.units_done, job.units_total, job.pages))
        return original(report, target, chunk=30, progress=watched)

    monkeypatch.setattr(document_jobs, "write_upward_pdf", small_windows)
    queued = request_upward_pdf(engine, round_id, "周婷")  # inline dispatch: laid out after the commit
    assert queued["status"] == "排队中" and queued["requested_by"] == "周婷"
    job = get_document_job(engine, round_id, queued["id"])
    assert job["status"] == "已完成" and job["finished"] and job["current"] and job["error"] is None
    assert len(seen) >= 3, seen  # one report per window
    assert all(status == "生成中" for status, *_ in seen)
    assert [done for _, done, _, _ in seen] == sorted({done for _, done, _, _ in seen})  # rising
    assert seen[-1][1] == seen[-1][2] and seen[-1][3] == job["progress"]["pages"] > 1
    assert job["progress"]["percent"] == 100
    name, pdf = document_file(engine, round_id, job["id"])
    assert name.startswith(f"{ROUND}-整改情况报告-") and name.endswith(".pdf")
    assert pdf.startswith(b"%PDF") and job["size"] == len(pdf)
    with engine.db.reading() as session:
        assert session.get(DocumentJob, job["id"]).sha256 == hashlib.sha256(pdf).hexdigest()
    assert engine.closure_files.read(hashlib.sha256(pdf).hexdigest()) == pdf
    # The same document as the one made at once (the progress callback has no say in the layout).
    monkeypatch.undo()
    direct = io.BytesIO()
    pages = write_upward_pdf(upward_report(engine, ROUND), direct)
    assert pages == job["progress"]["pages"]
    assert pdf_text(pdf, squeeze=True) == pdf_text(direct.getvalue(), squeeze=True)
    assert "整改情况报告" in pdf_text(pdf, squeeze=True)


def test_two_requests_share_one_job_and_a_current_report_is_offered_again(imported, round_id):
    engine = imported
    engine.outbox.dispatch = "deferred"  # the worker has not got to it yet
    first = request_upward_pdf(engine, round_id, "周婷")
    second = request_upward_pdf(engine, round_id, "陈刚")
    assert second["id"] == first["id"] and second["status"] == "排队中"
    assert len(_outbox_rows(engine)) == 1
    with pytest.raises(Conflict, match="尚未生成完成"):
        document_file(engine, round_id, first["id"])
    assert engine.outbox.run().handled == 1
    assert get_document_job(engine, round_id, first["id"])["status"] == "已完成"
    again = request_upward_pdf(engine, round_id, "吴磊")
    assert again["id"] == first["id"] and again["current"]  # nothing changed since: the same file
    with engine.db.transaction() as session:  # audited, but nothing the report shows
        audit.append(session, "login", "user", 1, "周婷")
    assert request_upward_pdf(engine, round_id, "周婷")["id"] == first["id"]
    add_activity(engine, round_id, "党组会", "2026-10-12", "专题研究整改方案", actor="周婷")  # an audited change
    assert not get_document_job(engine, round_id, first["id"])["current"]
    newer = request_upward_pdf(engine, round_id, "周婷")
    assert newer["id"] != first["id"] and newer["status"] == "排队中"
    assert request_upward_pdf(engine, round_id, "周婷", again=True)["id"] == newer["id"]  # still queued: shared
    engine.outbox.run()
    assert request_upward_pdf(engine, round_id, "周婷")["id"] == newer["id"]
    forced = request_upward_pdf(engine, round_id, "周婷", again=True)  # the office asks for a new one
    assert forced["id"] != newer["id"]
    with pytest.raises(NotFound):
        get_document_job(engine, round_id + 1, forced["id"])  # a job is found only under its own round


def test_a_failing_layout_leaves_the_job_failed_with_its_reason_and_no_file(staffed_round, monkeypatch):
    engine = staffed_round
    new_item(engine, IMMEDIATE)
    round_id = get_round(engine, ROUND)["id"]

    def broken(report, target, progress):
        progress(1, 4, 1)
        target.write(b"%PDF-1.7 half a document")
        raise RuntimeError("font cache unreadable")

    monkeypatch.setattr(document_jobs, "write_upward_pdf", broken)
    job = get_document_job(engine, round_id, request_upward_pdf(engine, round_id, "周婷")["id"])
    assert job["status"] == "失败" and job["finished"] and not job["current"]
    assert "排版时出错" in job["error"] and "font cache unreadable" in job["error"]
    assert job["file_name"] == "" and job["size"] is None
    assert list(engine.closure_files.entries()) == []  # nothing half-written in the store
    assert all(handled is not None and not error for handled, error in _outbox_rows(engine))
    with pytest.raises(Conflict):
        document_file(engine, round_id, job["id"])
    monkeypatch.undo()
    retried = request_upward_pdf(engine, round_id, "周婷")  # a failed job is never reused
    assert retried["id"] != job["id"]
    assert get_document_job(engine, round_id, retried["id"])["status"] == "已完成"


def test_a_job_whose_process_stopped_is_replaced(staffed_round):
    engine = staffed_round
    new_item(engine, IMMEDIATE)
    round_id = get_round(engine, ROUND)["id"]
    engine.outbox.dispatch = "deferred"
    stuck = request_upward_pdf(engine, round_id, "周婷")
    with engine.db.transaction() as session:  # began, then its process died long ago
        job = session.get(DocumentJob, stuck["id"])
        job.status, job.updated_at = "生成中", engine.clock.now() - timedelta(hours=1)
    assert request_upward_pdf(engine, round_id, "周婷")["id"] != stuck["id"]
    old = get_document_job(engine, round_id, stuck["id"])
    assert old["status"] == "失败" and "中断" in old["error"]
    engine.outbox.run()  # the old event finds its job failed and does nothing; the new one is made
    assert get_document_job(engine, round_id, stuck["id"])["status"] == "失败"
    assert get_document_job(engine, round_id, stuck["id"] + 1)["status"] == "已完成"


def test_a_long_layout_keeps_its_outbox_row_from_other_workers(staffed_round, monkeypatch):
    """A layout longer than the outbox's lease renews its claim as it goes, so that another worker does not
    start the same layout meanwhile."""
    engine = staffed_round
    new_item(engine, IMMEDIATE)
    round_id = get_round(engine, ROUND)["id"]
    engine.outbox.dispatch = "deferred"
    request_upward_pdf(engine, round_id, "周婷")
    original, taken = document_jobs.write_upward_pdf, []

    def slow_windows(report, target, progress):
        def window(done, total, pages):
            with engine.db.transaction() as session:  # as if the lease had run out during this window
                session.query(OutboxEvent).update({"claimed_until": engine.clock.now() - timedelta(minutes=1)})
            progress(done, total, pages)  # the job tells its progress and renews its claim
            with engine.db.transaction() as session:  # another worker looks for work now
                taken.extend(row.id for row in claim(session, engine.clock.now(), 10))
        return original(report, target, chunk=2, progress=window)

    monkeypatch.setattr(document_jobs, "write_upward_pdf", slow_windows)
    assert engine.outbox.run().handled == 1
    assert taken == []
    with engine.db.reading() as session:
        assert [job.status for job in session.query(DocumentJob)] == ["已完成"]


def test_items_close_with_their_records_while_a_long_layout_runs(staffed_round, monkeypatch):
    """In the web app (thread dispatch) a long layout has a thread of its own: the 销号单 of an item closed
    meanwhile is made at once, not after the layout."""
    engine = staffed_round
    signing.init_dev_certificate(engine, "市政工程管理处", actor="tests")
    item = new_item(engine, IMMEDIATE)
    round_id = get_round(engine, ROUND)["id"]
    web = Engine(replace(engine.settings, outbox_dispatch="thread"))
    release, started = threading.Event(), threading.Event()
    original = document_jobs.write_upward_pdf

    def held(report, target, progress):
        started.set()
        release.wait(120)
        return original(report, target, progress=progress)

    monkeypatch.setattr(document_jobs, "write_upward_pdf", held)
    try:
        job = request_upward_pdf(web, round_id, "周婷")
        assert started.wait(60)
        close_immediate_item(web, item)
        deadline = time.monotonic() + 60
        while not item_closure_documents(web, item) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(item_closure_documents(web, item)) == 1
        assert get_document_job(web, round_id, job["id"])["status"] == "生成中"  # still laying out
    finally:
        release.set()
        web.outbox.wait_idle()
        web.close()
    assert get_document_job(engine, round_id, job["id"])["status"] == "已完成"


def test_prune_keeps_each_rounds_latest_report_and_removes_older_ones(imported, round_id):
    engine = imported
    first = request_upward_pdf(engine, round_id, "周婷")
    add_activity(engine, round_id, "党组会", "2026-10-12", "专题研究整改方案", actor="周婷")  # the report changes
    latest = request_upward_pdf(engine, round_id, "周婷")
    with engine.db.reading() as session:
        old_file, new_file = (session.get(DocumentJob, j["id"]).sha256 for j in (first, latest))
    assert old_file != new_file
    with engine.clock.pinned(engine.clock.now() + timedelta(days=3)):  # past the grace
        prune_files(engine)
    assert not engine.closure_files.exists(old_file) and engine.closure_files.exists(new_file)
    assert document_file(engine, round_id, latest["id"])[1].startswith(b"%PDF")
    with pytest.raises(NotFound, match="重新生成"):
        document_file(engine, round_id, first["id"])
