"""Database connection: SQLite (embedded default) or PostgreSQL (production), one transaction per action.

`transaction()` and `reading()` are the only ways to a session. They nest: an engine function that
opens one inside another's joins it, so the access layer can load, check and act in one session
per request while each engine function stays usable on its own (the CLI, tests)."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict
from engine.store import closing_writes


def make_sql_engine(url: str) -> SqlEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _make_sqlite_transactional(engine)
        return engine
    # A host that drops packets (a firewall, a moved server) fails in seconds, not after TCP's ~2 minutes;
    # a connect_timeout in the URL wins.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


CONNECT_TIMEOUT = 10  # seconds, PostgreSQL


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds password hashes); SQLite gives
    its -wal and -shm files the same mode. An existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _make_sqlite_transactional(engine: SqlEngine) -> None:
    # pysqlite's own transaction handling starts transactions late and never for SELECT; we take
    # control so that a writing action holds the write lock from its first read (BEGIN IMMEDIATE):
    # two writers then queue instead of one failing half-way with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        writing = conn.get_execution_options().get("rectify_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _is_unique_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_sql_engine(url)
        self._writer = sessionmaker(self.engine.execution_options(rectify_write=True), expire_on_commit=False)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        # Set by the Engine: the outbox writes the unit of work's domain events just before the
        # commit, and has them handled just after it (engine/outbox.py).
        self.before_commit: list[Callable[[Session], None]] = []
        self.after_commit: list[Callable[[dict], None]] = []
        self.audit_key: bytes | None = None  # set by the Engine (engine/store/keys.py); see engine/store/audit.py
        # The unit of work open in this thread (or task), so that an engine function called inside
        # another's session joins it: the outermost `transaction()` or `reading()` owns it.
        self._current: ContextVar[tuple[Session, bool] | None] = ContextVar(f"rectify_unit_of_work_{id(self)}",
                                                                           default=None)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def in_transaction(self) -> bool | None:
        """Whether this thread is inside a unit of work: True writing, False reading, None outside any."""
        current = self._current.get()
        return None if current is None else current[1]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One writing action: everything commits together or nothing does. Inside another
        `transaction()` it joins that one (the outermost commits); inside `reading()` it is refused."""
        current = self._current.get()
        if current is not None:
            session, writing = current
            if not writing:
                raise RuntimeError("a write inside a read-only unit of work: open the transaction() first")
            yield session
            return
        session = self._writer()
        session.info["rectify.audit_key"] = self.audit_key
        token = self._current.set((session, True))
        try:
            yield session
            for hook in self.before_commit:
                hook(session)
            closing_writes.flush(session)
            session.commit()
            info = dict(session.info)
        except StaleDataError as exc:
            session.rollback()
            raise Conflict("该事项已被他人同时修改，请刷新后重试") from exc
        except IntegrityError as exc:
            session.rollback()
            if _is_unique_violation(exc):  # two writers inserted the same thing at once
                raise Conflict("该事项已被他人同时修改，请刷新后重试") from exc
            raise
        except OperationalError as exc:
            session.rollback()
            if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
                raise Conflict("数据库忙，请稍后重试") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            self._current.reset(token)
            session.close()
        for hook in self.after_commit:  # the action has committed: a failing side effect must not undo its answer
            try:
                hook(info)
            except Exception:  # noqa: BLE001 — the outbox row stays for `rectify outbox run`
                logging.getLogger(__name__).exception("after-commit hook failed")

    @contextmanager
    def apart(self) -> Iterator[Session]:
        """A short writing transaction of its own, on another connection, committed at once whatever unit of
        work this thread is in (so that others see it before that one ends): for what must not wait for, or
        be undone with, the caller's work — a job's progress, bytes stored during a read-only preview. No
        outbox, notifications or audit: whatever needs those belongs in `transaction()`."""
        with Session(self.engine.execution_options(rectify_write=True)) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work; inside another one (reading or writing) it joins it."""
        current = self._current.get()
        if current is not None:
            yield current[0]
            return
        session = self._reader()
        token = self._current.set((session, False))
        try:
            yield session
        finally:
            self._current.reset(token)
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
