"""The 整改情况报告 PDF of a large round, made in the background.

WeasyPrint lays the report's dense tables out at ~90 ms a page: a round of 2,000 problems is 320 pages
and 30–50 s, too long to make while a web request waits (gunicorn gives up at 60 s). Above `SYNC_LIMIT`
problems the web therefore queues a `DocumentJob` (engine/store/document_jobs.py) and shows a page that
follows it, in the pattern of the ledger import (engine/ledger/xlsx/jobs.py): `DocumentQueued` is handled
after commit by `RenderDocument` (engine/outbox.py: a thread in the web app, `rectify outbox run`
otherwise), whose `prepare` reads the round and lays the PDF out outside any write transaction, telling
the job's row its progress after each window (short transactions of their own), and whose `apply` stores
the file and marks the job done in one transaction — so a job is 已完成 exactly when its file is stored.
A render that fails marks the job 失败 with the reason and stores nothing; the office asks again. The
file of each round's latest finished report is kept by `rectify files prune`; older ones go.

A finished report is offered again while it is current: made today (the report is dated and counts what
is overdue as of its day) and no audited change has happened since its data was read (every change of
items, tasks, signatures, lights, round text or records appends to the audit log; signing in, personal
settings and file housekeeping do too but change nothing the report shows, so they are not counted).
A job 生成中 that has told no progress for `STALLED` was interrupted (its process stopped): asking again
then starts a new one. The CLI (`rectify report upward`) still writes the file at once: a terminal waits.
"""
from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict, EngineError, NotFound
from engine.events import DocumentQueued, record
from engine.ledger.rounds import find_round
from engine.reports.upward import upward_file_name, upward_report, write_upward_pdf
from engine.store.document_jobs import DONE, FAILED, QUEUED, RUNNING, DocumentJob
from engine.store.models import AuditEntry, Item, Round

if TYPE_CHECKING:
    from engine.core import Engine

log = logging.getLogger(__name__)
UPWARD_PDF = "upward.pdf"
# Problems up to which the web still answers with the PDF itself: ~300 problems are ~50 pages, ~5 s.
SYNC_LIMIT = 300
STALLED = timedelta(minutes=15)


def problem_count(session: Session, round_ref: int | str) -> int:
    round_ = find_round(session, round_ref)
    return session.execute(select(func.count()).select_from(Item).where(Item.round_id == round_.id)).scalar_one()


# Audited actions that change nothing the report shows (engine/store/audit.py callers).
NOT_CHANGES = ("login", "login.failed", "user.preferences", "user.set_email", "user.change_password",
               "user.set_password", "user.reset_password", "signing_key.issue", "signing_key.rewrap",
               "files.prune", "files.migrate", "audit.keyed")


def _last_change(session: Session) -> int:
    """The newest audit entry of a change (the primary key walked back from the end, both databases)."""
    return session.execute(select(AuditEntry.id).where(AuditEntry.action.not_in(NOT_CHANGES))
                           .order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none() or 0


def _current(engine: Engine, session: Session, job: DocumentJob) -> bool:
    """Whether a finished job's file is still what the report would say now (see the module docstring)."""
    if job.status != DONE or job.finished_at is None:
        return False
    today = engine.lights.local_date(engine.clock.now())
    return engine.lights.local_date(job.finished_at) == today and job.last_change_id == _last_change(session)


def job_view(engine: Engine, session: Session, job: DocumentJob) -> dict:
    done, total, pages = job.units_done, job.units_total, job.pages
    percent = 100 if job.status == DONE else (min(99, 100 * done // total) if total else 0)
    return {"id": job.id, "round_id": job.round_id, "kind": job.kind, "status": job.status,
            "requested_by": job.requested_by, "requested_at": job.requested_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "progress": {"done": done, "total": total, "pages": pages, "percent": percent,
                         "pages_estimate": round(pages * total / done) if done and job.status == RUNNING else None},
            "error": job.error, "file_name": job.file_name, "size": job.size,
            "finished": job.status in (DONE, FAILED), "current": _current(engine, session, job)}


def _recent_jobs(session: Session, round_id: int, kind: str) -> list[DocumentJob]:
    return list(session.execute(select(DocumentJob).where(DocumentJob.round_id == round_id, DocumentJob.kind == kind)
                                .order_by(DocumentJob.id.desc()).limit(10)).scalars())


def request_upward_pdf(engine: Engine, round_ref: int | str, actor: str | None, again: bool = False) -> dict:
    """The job that answers a request for the round's upward PDF: one queued or running already, else
    (unless `again`: the office asks for a new one) a finished one that is still current, else a new one.
    Joins the caller's transaction; the round's row is locked so two requests at once share one job."""
    with engine.db.transaction() as session:
        round_id = find_round(session, round_ref).id
        session.execute(select(Round.id).where(Round.id == round_id).with_for_update())  # SQLite: BEGIN IMMEDIATE
        now = engine.clock.now()
        jobs = _recent_jobs(session, round_id, UPWARD_PDF)
        for job in jobs:
            if job.status == RUNNING and (job.updated_at or job.requested_at) < now - STALLED:
                job.status, job.finished_at = FAILED, now
                job.error = "生成中断（处理它的进程已停止），请重新生成"
            elif job.status in (QUEUED, RUNNING):
                return job_view(engine, session, job)
        done = next((job for job in jobs if job.status == DONE), None)
        if done is not None and not again and _current(engine, session, done):
            return job_view(engine, session, done)
        job = DocumentJob(round_id=round_id, kind=UPWARD_PDF, requested_by=actor, requested_at=now, status=QUEUED,
                          units_done=0, units_total=0, pages=0, file_name="")
        session.add(job)
        session.flush()
        record(session, DocumentQueued(item_id=0, job_id=job.id))
        return job_view(engine, session, job)


def _job(session: Session, round_id: int, job_id: int) -> DocumentJob:
    job = session.get(DocumentJob, job_id)
    if job is None or job.round_id != round_id:
        raise NotFound(f"报告生成任务 {job_id} 不存在")
    return job


def get_document_job(engine: Engine, round_id: int, job_id: int) -> dict:
    with engine.db.reading() as session:
        return job_view(engine, session, _job(session, round_id, job_id))


def document_file(engine: Engine, round_id: int, job_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a finished job, checked against its SHA-256."""
    with engine.db.reading() as session:
        job = _job(session, round_id, job_id)
        if job.status != DONE:
            raise Conflict(f"报告尚未生成完成（{job.status}），请稍后再下载")
        name, sha = job.file_name, job.sha256
    try:
        return name, engine.closure_files.read(sha, verify=True)
    except NotFound:
        raise NotFound("该份报告文件已不在文件库中（可能已被清理），请重新生成") from None


def _fail(engine: Engine, job_id: int, error: str) -> None:
    with engine.db.transaction() as session:
        job = session.get(DocumentJob, job_id)
        if job is not None and job.status in (QUEUED, RUNNING):
            job.status, job.error, job.finished_at = FAILED, error, engine.clock.now()


def _progress(engine: Engine, job_id: int):
    def tell(done: int, total: int, pages: int) -> None:
        try:
            with engine.db.transaction() as session:
                session.execute(update(DocumentJob).where(DocumentJob.id == job_id, DocumentJob.status == RUNNING)
                                .values(units_done=done, units_total=total, pages=pages, updated_at=engine.clock.now()))
        except Exception:  # noqa: BLE001 — a busy database only delays the page's figures, never the report
            log.warning("document job %s: progress not recorded", job_id, exc_info=True)
        engine.outbox.keep_claim()
    return tell


def failure_text(exc: BaseException) -> str:
    """Why the report was not made, for the job page (which prefixes 报告未能生成)."""
    if isinstance(exc, EngineError):
        return exc.message
    detail = str(exc).strip()[:300]
    return f"排版时出错（{type(exc).__name__}{'：' + detail if detail else ''}）。可重新生成；如仍失败，请联系管理员"


class RenderDocument:
    """The outbox handler of `DocumentQueued`: `prepare` lays the PDF out (slow, no write lock held),
    `apply` stores it and marks the job done with the outbox row. Slow: in the web app it has a thread of
    its own (the 销号单 of items closing meanwhile do not wait behind it), and it renews its claim on the
    outbox row as it goes (no other worker starts the same layout while this one works)."""

    slow = True

    def prepare(self, engine: Engine, event: DocumentQueued) -> dict | None:
        with engine.db.transaction() as session:
            job = session.get(DocumentJob, event.job_id)
            if job is None or job.status in (DONE, FAILED):
                return None  # done by an earlier run: the event only waited to be marked
            # Read before the report's data: a change made while reading makes the file outdated, never current.
            job.status, job.updated_at, job.last_change_id = RUNNING, engine.clock.now(), _last_change(session)
            round_id = job.round_id
        try:
            report = upward_report(engine, round_id)
            with tempfile.TemporaryFile() as out:
                pages = write_upward_pdf(report, out, progress=_progress(engine, event.job_id))
                out.seek(0)
                data = out.read()
        except Exception as exc:  # noqa: BLE001 — whatever layout raised, the office is told and may ask again
            log.exception("document job %s failed", event.job_id)
            _fail(engine, event.job_id, failure_text(exc))
            return None
        day = engine.lights.local_date(engine.clock.now()).isoformat()
        return {"data": data, "pages": pages, "file_name": upward_file_name(report, day, "pdf")}

    def apply(self, engine: Engine, session: Session, event: DocumentQueued, prepared: dict | None) -> None:
        if prepared is None:
            return
        job = session.get(DocumentJob, event.job_id)
        if job is None or job.status != RUNNING:
            return  # declared interrupted meanwhile: a newer job makes the report
        data = prepared["data"]
        job.sha256 = engine.closure_files.put(data)  # the database store writes it in this transaction
        job.status, job.size, job.pages, job.file_name = DONE, len(data), prepared["pages"], prepared["file_name"]
        job.units_done = job.units_total
        job.finished_at = job.updated_at = engine.clock.now()
