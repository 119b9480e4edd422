"""Which file store an engine uses (`RECTIFY_FILE_STORE`: disk, database or s3) and building it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import InvalidInput
from engine.store.blobs import DatabaseStore
from engine.store.filestore import DiskStore, FileStore

if TYPE_CHECKING:
    from engine.config import Settings
    from engine.store.db import Database


def store_kind(settings: Settings) -> str:
    """The configured backend: RECTIFY_FILE_STORE, else the database for PostgreSQL (every machine sees
    it) and the disk for SQLite (one machine)."""
    if settings.file_store:
        return settings.file_store
    return "database" if settings.database_url.startswith("postgresql") else "disk"


def make_store(settings: Settings, db: Database, namespace: str) -> FileStore:
    kind = store_kind(settings)
    if kind == "disk":
        return DiskStore(settings.instance_path / namespace, namespace)
    if kind == "database":
        return DatabaseStore(db, namespace)
    if kind == "s3":
        from engine.store.s3store import S3Store

        return S3Store.from_settings(settings, namespace)
    raise InvalidInput(f"文件存储设置有误：RECTIFY_FILE_STORE 只能是 disk、database 或 s3（现为 {kind}）",
                       {"RECTIFY_FILE_STORE": kind})


def engine_stores(engine) -> dict[str, FileStore]:
    """The engine's stores by namespace (prune, backup, doctor and migration walk them all)."""
    return {"evidence": engine.evidence.files, "documents": engine.closure_files, "uploads": engine.uploads}
