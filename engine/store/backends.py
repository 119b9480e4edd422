"""Which file store an engine uses (`RECTIFY_FILE_STORE`: disk, database or s3) and building it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import InvalidInput
from engine.store.blobs import DatabaseStore
from engine.store.filestore import DiskStore, FileStore
from engine.store.legacy_disk import WithLegacyDisk, has_files

if TYPE_CHECKING:
    from engine.config import Settings
    from engine.store.db import Database


def store_kind(settings: Settings) -> str:
    """The configured backend: RECTIFY_FILE_STORE, else the database for PostgreSQL (every machine sees
    it) and the disk for SQLite (one machine)."""
    if settings.file_store:
        return settings.file_store
    return "database" if settings.database_url.startswith("postgresql") else "disk"


def make_store(settings: Settings, db: Database, namespace: str, with_legacy_disk: bool = True) -> FileStore:
    """The namespace's store. A shared one (database, S3) keeps reading the files an earlier version left in
    the instance folder while any are there (engine/store/legacy_disk.py), unless `with_legacy_disk` is off
    (`files migrate` compares the stores themselves)."""
    kind = store_kind(settings)
    disk = DiskStore(settings.instance_path / namespace, namespace)
    if kind == "disk":
        return disk
    if kind not in ("database", "s3"):
        raise InvalidInput(f"文件存储设置有误：RECTIFY_FILE_STORE 只能是 disk、database 或 s3（现为 {kind}）",
                           {"RECTIFY_FILE_STORE": kind})
    if kind == "database":
        shared = DatabaseStore(db, namespace)
    else:
        from engine.store.s3store import S3Store

        shared = S3Store.from_settings(settings, namespace)
    return WithLegacyDisk(shared, disk) if with_legacy_disk and has_files(disk) else shared


def engine_stores(engine) -> dict[str, FileStore]:
    """The engine's stores by namespace (prune, backup, doctor and migration walk them all)."""
    return {"evidence": engine.evidence.files, "documents": engine.closure_files, "uploads": engine.uploads}
