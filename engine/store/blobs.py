"""Stored files in the database (`RECTIFY_FILE_STORE=database`, the default on PostgreSQL): one row per
namespace and SHA-256, so every machine on the same database sees every file and a backup of the
database holds them.

A write joins the caller's transaction when there is one: an evidence row and its bytes, a closure
record's `documents` row and its PDF commit together or not at all, so nothing is half-written and a
failed commit leaves no file behind. Two machines storing the same content at once never collide:
on conflict the insert only renews the last-used time (SQLite and PostgreSQL both)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import BigInteger, LargeBinary, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.store import closing_writes
from engine.store.filestore import Entry, FileStore, utc_now
from engine.store.models import Base

if TYPE_CHECKING:
    from engine.store.db import Database


class StoredBlob(Base):
    __tablename__ = "stored_files"
    namespace: Mapped[str] = mapped_column(String(20), primary_key=True)  # evidence, documents, uploads
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]  # renewed when the same content is stored again (pruning spares it)


def _put_statement(dialect):
    """One statement: stored already (by this machine or another), only its last-used time moves."""
    insert = dialect.insert(StoredBlob)
    return insert.on_conflict_do_update(index_elements=["namespace", "sha256"],
                                        set_={"last_used_at": insert.excluded.last_used_at})


PUT = {"postgresql": _put_statement(postgresql), "sqlite": _put_statement(sqlite)}  # built once


class DatabaseStore(FileStore):
    kind = "database"

    def __init__(self, db: Database, namespace: str):
        super().__init__(namespace)
        self.db = db

    def _key(self, name: str):
        return (StoredBlob.namespace == self.namespace, StoredBlob.sha256 == name)

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        if self.db.in_transaction() is not False:  # none, or the caller's writing one
            with self.db.transaction() as session:  # joins the caller's writing transaction
                yield session
        else:  # inside a read-only unit (an import preview): the bytes commit on their own
            with self.db.apart() as session:
                yield session

    def _put(self, digest: str, content: bytes) -> None:
        now = utc_now()
        joined = self.db.in_transaction() is not False
        row = {"namespace": self.namespace, "sha256": digest, "size": len(content), "content": content,
               "created_at": now, "last_used_at": now}
        with self._writing() as session:
            put = PUT[session.get_bind().dialect.name]
            # in a transaction() it goes with the unit's last insert; `apart` commits it on its own at once
            closing_writes.hold(session, put, [row]) if joined else session.execute(put, [row])

    def _fetch(self, sha256: str) -> bytes | None:
        with self.db.reading() as session:
            content = session.execute(select(StoredBlob.content).where(*self._key(sha256))).scalar_one_or_none()
        return None if content is None else bytes(content)

    def exists(self, sha256: str) -> bool:
        with self.db.reading() as session:
            return session.execute(select(StoredBlob.sha256).where(*self._key(sha256))).first() is not None

    def entries(self) -> Iterator[Entry]:
        with self.db.reading() as session:  # the listing never loads the contents
            rows = session.execute(select(StoredBlob.sha256, StoredBlob.size, StoredBlob.last_used_at)
                                   .where(StoredBlob.namespace == self.namespace).order_by(StoredBlob.sha256)).all()
        for sha256, size, used_at in rows:
            yield Entry(sha256, size, used_at)

    def _remove(self, name: str, unused_since: datetime | None) -> bool:
        query = delete(StoredBlob).where(*self._key(name))
        if unused_since is not None:  # checked by the delete itself: a renewal in between wins
            query = query.where(StoredBlob.last_used_at <= unused_since)
        with self.db.transaction() as session:
            return session.execute(query).rowcount > 0
