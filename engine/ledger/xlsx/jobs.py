"""Ledger imports confirmed on the web run in the background: the request that confirms one queues
a job and answers at once with a page that follows its progress; the import itself — still all or
nothing, one transaction — runs after commit as the outbox handler of `ImportQueued`
(engine/outbox.py), so a large ledger never meets the web server's request timeout. A job that a
crash interrupted is run again by `rectify outbox run` (its transaction rolled back; the job row says
`done` only in the transaction that imported it). Progress must be readable while the import's own
transaction is still open: on PostgreSQL it goes to the job's row in short transactions of its own, so
the page shows it on every machine of a deployment; on SQLite (one machine, whose single writer is the
import itself) to a small file per job in the instance folder.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Integer, String, Text, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidInput, NotFound
from engine.events import ImportQueued, record
from engine.ledger.rounds import find_round
from engine.ledger.xlsx.importing import LedgerRefused, RoleChangesUnconfirmed, apply_import
from engine.store.filestore import write_atomically
from engine.store.models import Base

if TYPE_CHECKING:
    from engine.core import Engine

QUEUED, RUNNING, DONE, FAILED = "排队中", "导入中", "已完成", "未导入"


class ImportJob(Base):
    __tablename__ = "import_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    actor: Mapped[Optional[str]] = mapped_column(String(100))
    allow_role_changes: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    finished_at: Mapped[Optional[datetime]]
    result: Mapped[Optional[dict]]  # the import's summary, or {"problems": [...]} when refused
    error: Mapped[Optional[str]] = mapped_column(Text)
    items: Mapped[int] = mapped_column(Integer, default=0)


def queue_import(engine: Engine, round_ref: int | str, sha256: str, actor: str | None, file_name: str = "",
                 allow_role_changes: bool = False) -> dict:
    """A job to import the kept upload `sha256` into the round; joins the caller's transaction."""
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        job = ImportJob(round_id=round_.id, sha256=sha256, file_name=file_name[:255], actor=actor,
                        allow_role_changes=allow_role_changes, status=QUEUED, created_at=engine.clock.now())
        session.add(job)
        session.flush()
        record(session, ImportQueued(item_id=0, job_id=job.id))
        return job_view(engine, job)


def _progress_path(engine: Engine, job_id: int):
    return engine.settings.instance_path / "jobs" / f"import-{job_id}.json"


def _write_progress(engine: Engine, job_id: int, done: int, total: int) -> None:
    progress = {"done": done, "total": total}
    if engine.db.is_sqlite:
        path = _progress_path(engine, job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(progress).encode("utf-8"))
        return
    try:
        with engine.db.apart() as session:  # not the import's transaction: it commits now
            session.execute(text("SET LOCAL lock_timeout = '2s'"))  # progress is never worth waiting for
            session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_((QUEUED, RUNNING)))
                            .values(result={"progress": progress}))
    except OperationalError:
        pass


def job_view(engine: Engine, job: ImportJob) -> dict:
    progress = {"done": job.items, "total": job.items} if job.status == DONE else {"done": 0, "total": 0}
    if job.status in (QUEUED, RUNNING):
        try:
            progress = (json.loads(_progress_path(engine, job.id).read_text()) if engine.db.is_sqlite
                        else (job.result or {}).get("progress", progress))
        except (OSError, ValueError):
            pass
    return {"id": job.id, "round_id": job.round_id, "status": job.status, "file_name": job.file_name,
            "actor": job.actor, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "progress": progress, "result": job.result if job.status in (DONE, FAILED) else None, "error": job.error,
            "finished": job.status in (DONE, FAILED)}


def get_job(engine: Engine, job_id: int) -> dict:
    with engine.db.reading() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            raise NotFound(f"导入任务 {job_id} 不存在")
        return job_view(engine, job)


def _finish(engine: Engine, job_id: int, status: str, result: dict | None, error: str | None) -> None:
    with engine.db.transaction() as session:
        job = session.get(ImportJob, job_id)
        job.status, job.result, job.error, job.finished_at = status, result, error, engine.clock.now()


class RunImport:
    """The outbox handler of `ImportQueued`. The work happens in `prepare` (the import is its own
    transaction, which also marks the job done); `apply` only marks the event handled."""

    def prepare(self, engine: Engine, event: ImportQueued) -> None:
        with engine.db.reading() as session:
            job = session.get(ImportJob, event.job_id)
            if job is None or job.status in (DONE, FAILED):
                return  # done by an earlier run: the event only waited to be marked
            round_id, sha, actor, allow = job.round_id, job.sha256, job.actor, job.allow_role_changes
        try:
            data = engine.uploads.read(sha, verify=True)
        except NotFound:
            _finish(engine, event.job_id, FAILED, None, "待导入的台账文件已不存在，请重新上传")
            return

        def mark_done(session: Session, result: dict) -> None:
            job = session.get(ImportJob, event.job_id)
            job.status, job.items, job.finished_at = DONE, len(result["created"]), engine.clock.now()
            job.result = {k: result[k] for k in ("new_units", "new_people", "new_aspects", "role_grants")} | {
                "created": len(result["created"])}

        try:
            apply_import(engine, round_id, data, actor, allow_role_changes=allow, on_success=mark_done,
                         progress=lambda done, total: _write_progress(engine, event.job_id, done, total)
                         if done == total or done % 50 == 0 else None)
        except RoleChangesUnconfirmed as exc:
            _finish(engine, event.job_id, FAILED, {"role_grants": exc.grants}, exc.message)
        except (LedgerRefused, InvalidInput) as exc:
            problems = [p.as_dict() for p in getattr(exc, "problems", [])]
            _finish(engine, event.job_id, FAILED, {"problems": problems}, exc.message)
        finally:
            _progress_path(engine, event.job_id).unlink(missing_ok=True)

    def apply(self, engine: Engine, session: Session, event: ImportQueued, prepared) -> None:
        return None
