"""`rectify backup` and `rectify restore`: the whole deployment in two archives kept apart.

  data archive   every table as JSON lines (a logical dump, so a SQLite backup restores into
                 PostgreSQL and the other way round) and the stored files — evidence and closure
                 records — under their SHA-256 names, whichever store holds them (disk, database
                 or S3; a restore puts them into the store the restoring engine is set to use);
  keys archive   what must never travel with the data: the audit key, the signing certificate and
                 its private key, the signing authority (CA) that issues personal certificates, the
                 web secret key. Whoever holds only the data archive can read it
                 but can neither forge history that verifies nor sign as the body.

A restore goes into an empty database (migrated to the same schema first) and an instance folder
without data; afterwards every signature, closure record and the audit chain verify as before.
"""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Date, DateTime, Integer, func, insert, select, text

from engine.errors import Conflict, InvalidInput
from engine.store.backends import engine_stores
from engine.store.blobs import StoredBlob
from engine.store.keys import AUDIT_KEY_ENV
from engine.store.models import AuditHead, Base, UTCDateTime
from engine.store.schema import current_revision, upgrade

if TYPE_CHECKING:
    from engine.core import Engine

FORMAT = "rectify.backup/1"
FILE_STORES = ("evidence", "documents")  # the stores backed up (ledgers awaiting an import are not)
_SHA256 = re.compile(r"[0-9a-f]{64}")
KEY_PATHS = ("keys", "signing", "authority", "secret_key")  # instance entries that are secrets


def _tables():
    """Every table: an Engine exists, and importing it registered them all (engine/core.py). Stored
    files go into the archive as files, not as rows, whichever store holds them."""
    return [t for t in Base.metadata.sorted_tables if t.name != StoredBlob.__tablename__]


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    archive.addfile(info, io.BytesIO(data))


def backup(engine: Engine, data_path: Path, keys_path: Path) -> dict:
    """Write the data archive and the keys archive; returns what went into each."""
    if data_path.resolve() == keys_path.resolve():
        raise InvalidInput("数据与密钥必须分别保存", {"keys": "密钥归档不能与数据归档是同一个文件"})
    counts, files = {}, 0
    with tarfile.open(data_path, "w:gz") as archive, engine.db.reading() as session:
        for table in _tables():
            lines = [json.dumps({k: _plain(v) for k, v in row._mapping.items()}, ensure_ascii=False)
                     for row in session.execute(select(table).order_by(*table.primary_key.columns))]
            counts[table.name] = len(lines)
            _add(archive, f"tables/{table.name}.jsonl", "\n".join(lines).encode("utf-8"))
        stores = engine_stores(engine)
        for namespace in FILE_STORES:
            for entry in stores[namespace].entries():
                if _SHA256.fullmatch(entry.name):  # not a leftover temporary file of a crashed write
                    _add(archive, f"files/{namespace}/{entry.name[:2]}/{entry.name}",
                         stores[namespace].read(entry.name))
                    files += 1
        manifest = {"format": FORMAT, "schema": current_revision(engine), "made_at": engine.clock.now().isoformat(),
                    "database": engine.db.engine.dialect.name, "rows": counts, "files": files}
        _add(archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    keys = []
    with tarfile.open(keys_path, "w:gz") as archive:
        for name in KEY_PATHS:
            path = engine.settings.instance_path / name
            if path.exists():
                archive.add(path, name)
                keys.append(name)
        if os.environ.get(AUDIT_KEY_ENV):  # a key given by the environment is kept as the file it restores to
            _add(archive, "keys/audit.key", os.environ[AUDIT_KEY_ENV].encode("ascii"))
            keys.append("keys/audit.key (RECTIFY_AUDIT_KEY)")
    keys_path.chmod(0o600)
    return manifest | {"keys": keys}


def _value(column, value):
    if value is None:
        return None
    if isinstance(column.type, (UTCDateTime, DateTime)):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _is_empty(session) -> bool:
    head = session.get(AuditHead, 1)
    return head is None or head.count == 0


def restore(engine: Engine, data_path: Path, keys_path: Path | None) -> dict:
    """Restore both archives into this engine's empty database and instance folder."""
    instance = engine.settings.instance_path
    with tarfile.open(data_path, "r:gz") as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        if manifest.get("format") != FORMAT:
            raise InvalidInput("不是本系统的备份文件", {"file": f"格式未知：{manifest.get('format')}"})
        upgrade(engine)
        if manifest["schema"] != current_revision(engine):
            raise Conflict(f"备份的数据库结构版本（{manifest['schema']}）与本系统（{current_revision(engine)}）不同："
                           "请用相同版本的程序恢复，再升级")
        with engine.db.transaction() as session:
            if not _is_empty(session) or session.execute(select(func.count()).select_from(
                    Base.metadata.tables["items"])).scalar_one():
                raise Conflict("目标数据库不是空的：只能恢复到新建的空数据库")
            for table in reversed(_tables()):  # the rows a migration seeds (the audit head) give way
                session.execute(table.delete())
            for table in _tables():
                lines = archive.extractfile(f"tables/{table.name}.jsonl").read().decode("utf-8").splitlines()
                rows = [{k: _value(table.c[k], v) for k, v in json.loads(line).items()} for line in lines if line]
                if rows:
                    session.execute(insert(table), rows)
            if engine.db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
                for table in _tables():
                    if "id" in table.c and isinstance(table.c.id.type, Integer) and table.c.id.autoincrement:
                        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                             f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
        stores = engine_stores(engine)
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith("files/"):
                namespace = member.name[len("files/"):].partition("/")[0]
                if namespace in FILE_STORES:  # stored under the hash of what is there, never of its name
                    stores[namespace].put(archive.extractfile(member).read())
    keys = []
    if keys_path is not None:
        with tarfile.open(keys_path, "r:gz") as archive:
            for member in archive.getmembers():
                if member.name.split("/")[0] in KEY_PATHS and ".." not in Path(member.name).parts:
                    archive.extract(member, instance, filter="data")
                    keys.append(member.name)
    if keys:  # the restored audit key is the one this engine must use from now on
        from engine.store.keys import audit_key

        engine.db.audit_key = audit_key(instance)
    return manifest | {"restored_keys": sorted({k.split("/")[0] for k in keys})}
