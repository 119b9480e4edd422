"""Files no row refers to, and removing them (`rectify files prune`).

Evidence and closure records are written just before their transaction commits, so a commit that
fails (a lost race, a crash) can leave a file no row names; a ledger uploaded for an import preview
is kept only until it is confirmed or abandoned; of the long documents made in the background, each
round's latest is kept. Only files older than a grace period go, so nothing an action in progress is
about to commit is touched (storing content that already exists renews its last-used time, see
`FileStore.put`). The same on every backend (disk, database, S3)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.store import audit
from engine.store.backends import engine_stores
from engine.store.document_jobs import DONE, DocumentJob
from engine.store.filestore import FileStore
from engine.store.models import Base, Document, EvidenceFile

if TYPE_CHECKING:
    from engine.core import Engine

GRACE = timedelta(hours=24)
STORE_TEXT = {"evidence": "佐证材料", "documents": "销号单", "uploads": "待导入台账"}


def _unreferenced(store: FileStore, referenced: set[str], cutoff: datetime) -> tuple[list, int]:
    """([(name, size)] of old files no row names, how many unreferenced files are within the grace)."""
    old, recent = [], 0
    for entry in store.entries():
        if entry.name in referenced:
            continue
        if entry.used_at > cutoff:
            recent += 1
        else:
            old.append((entry.name, entry.size))
    return old, recent


def _awaited_uploads(session) -> set[str]:
    """Ledgers that an import job queued and not yet finished still needs (engine/ledger/xlsx/jobs.py;
    its table is read by name so that the store needs nothing of the ledger package)."""
    jobs = Base.metadata.tables.get("import_jobs")
    if jobs is None:
        return set()
    return set(session.execute(select(jobs.c.sha256).where(jobs.c.finished_at.is_(None))).scalars())


def _latest_reports(session) -> set[str]:
    """The file of each round's latest finished long document (engine/reports/document_jobs.py): the one
    its job page offers. Earlier ones are made again on request."""
    latest = (select(func.max(DocumentJob.id)).where(DocumentJob.status == DONE)
              .group_by(DocumentJob.round_id, DocumentJob.kind))
    return set(session.execute(select(DocumentJob.sha256).where(DocumentJob.id.in_(latest))).scalars())


def prune_files(engine: Engine, grace: timedelta = GRACE, dry_run: bool = False, actor: str | None = None) -> dict:
    """Remove (or with `dry_run` only list) stored files that no row refers to and that are older than
    `grace`. Returns counts and bytes per store; a run that removed files is in the audit log."""
    if grace < timedelta(hours=1):
        raise InvalidInput("宽限期不能短于 1 小时：正在办理的操作可能还未提交")
    cutoff = engine.clock.now() - grace
    with engine.db.reading() as session:  # no write lock while the stores are listed
        referenced = {
            "evidence": set(session.execute(select(EvidenceFile.sha256).distinct()).scalars()),
            "documents": set(session.execute(select(Document.sha256).distinct()).scalars()) | _latest_reports(session),
            "uploads": _awaited_uploads(session),  # else an upload only waits for its confirmation
        }
    stores = engine_stores(engine)
    candidates, recent = [], 0
    for name, store in stores.items():
        old, young = _unreferenced(store, referenced[name], cutoff)
        candidates += [(name, file_name, size) for file_name, size in old]
        recent += young
    removed = []
    for name, file_name, size in candidates:
        # Looked at again as it goes: storing the same content again renews its time.
        if not dry_run and not stores[name].delete(file_name, unused_since=cutoff):
            continue
        removed.append((name, size))
    by_store = {name: {"files": sum(1 for n, _ in removed if n == name),
                       "bytes": sum(size for n, size in removed if n == name)} for name in stores}
    report = {
        "id": "files.prune", "dry_run": dry_run, "grace_hours": grace.total_seconds() / 3600,
        "removed": by_store, "files": len(removed), "bytes": sum(size for _, size in removed),
        "kept_within_grace": recent,
    }
    if removed and not dry_run:
        with engine.db.transaction() as session:
            audit.append(session, "files.prune", "files", "-", actor,
                         removed={name: v["files"] for name, v in by_store.items()}, bytes=report["bytes"])
    return report
