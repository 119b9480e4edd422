"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL is at RECTIFY_TEST_POSTGRES_URL (default: the machine's local server, database `test`). Each run
works in a schema of its own, rectify_test_<random>, made when the session starts and dropped when it ends:
two runs on one machine never meet. In CI (CI=true) an unreachable PostgreSQL fails the run: it never skips."""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("RECTIFY_PASSWORD_PROFILE", "test")
# One audit key for the run: databases are copied from a template into fresh instance folders.
os.environ.setdefault("RECTIFY_AUDIT_KEY", "5e" * 32)
from helpers import PG_SERVER, in_schema
from sqlalchemy import create_engine, inspect, text

from engine import Engine, Settings
from engine.process.deploy import deploy_defaults
from engine.store.models import Base
from engine.store.schema import upgrade


def settings_for(url: str, instance: Path) -> Settings:
    return replace(Settings.from_env(), database_url=url, instance_path=instance)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database with the default workflows deployed, copied for every test."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    engine = Engine(settings_for(f"sqlite:///{path}", folder / "instance"))
    upgrade(engine)
    deploy_defaults(engine, actor="tests")
    with engine.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.close()
    return path


@pytest.fixture(scope="session")
def postgres_url(request) -> str:
    """This run's own schema, rectify_test_<random>: made now, dropped (with everything in it) when the
    session ends. Unreachable PostgreSQL: skipped here, a failure in CI."""
    schema = f"rectify_test_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, connect_args={"connect_timeout": 10})
    try:
        with server.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001
        server.dispose()
        problem = str(exc).splitlines()[0]
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable here: {problem}")

    def drop():
        with server.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))  # an error, not a hang, if something holds on
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema}_saved CASCADE"))  # the template, SavedStates
        server.dispose()

    request.addfinalizer(drop)
    return in_schema(PG_SERVER, schema)


@pytest.fixture(scope="session")
def postgres_ready(postgres_url, tmp_path_factory) -> str:
    """The run's schema migrated, the default workflows deployed, and that state saved as the template
    every test starts from (like sqlite_template). Gives the URL."""
    engine = Engine(settings_for(postgres_url, tmp_path_factory.mktemp("pg-instance")))
    upgrade(engine)
    deploy_defaults(engine, actor="tests")
    with engine.db.engine.begin() as conn:
        save_postgres(conn, "template")
    engine.close()
    return postgres_url


# What save_postgres kept, by key: the tables it found rows in (the others stay empty on restore).
_SAVED_ROWS: dict[str, list[str]] = {}
_SCHEMAS: dict[str, tuple[list[str], dict[str, list[str]]]] = {}


def _schema(conn) -> tuple[str, list[str], dict[str, list[str]]]:
    """The run's schema, its tables (each after the tables it refers to), and their id sequences' columns."""
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    if schema not in _SCHEMAS:  # migrated once per run: read once
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        in_order = [t.name for t in Base.metadata.sorted_tables if t.name in tables]
        serial: dict[str, list[str]] = {}
        for table, column in conn.execute(text("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                               "table_schema = current_schema() AND column_default LIKE 'nextval(%'")):
            serial.setdefault(table, []).append(column)
        _SCHEMAS[schema] = (in_order + [t for t in tables if t not in in_order], serial)
    return (schema, *_SCHEMAS[schema])


def save_postgres(conn, key: str) -> None:
    """A copy of every table's rows, kept beside the run's schema (in <schema>_saved) under `key`."""
    schema, tables, _ = _schema(conn)
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}_saved"))
    _SAVED_ROWS[key] = [table for table in tables if conn.execute(
        text(f"CREATE TABLE {schema}_saved.{key}__{table} AS TABLE {table}")).rowcount]


def restore_postgres(conn, key: str) -> None:
    """Every table's rows as save_postgres kept them under `key`, each id sequence going on after them."""
    schema, tables, serial = _schema(conn)
    conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    for table in _SAVED_ROWS[key]:
        conn.execute(text(f"INSERT INTO {table} SELECT * FROM {schema}_saved.{key}__{table}"))
        for column in serial.get(table, []):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), MAX({column})) "
                              f"FROM {table}"))


def make_sqlite_engine(template: Path, tmp_path: Path) -> Engine:
    db = tmp_path / "rectify.db"
    shutil.copy(template, db)
    return Engine(settings_for(f"sqlite:///{db}", tmp_path / "instance"))


def make_postgres_engine(url: str, tmp_path: Path) -> Engine:
    engine = Engine(settings_for(url, tmp_path / "instance"))
    with engine.db.engine.begin() as conn:
        restore_postgres(conn, "template")
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, sqlite_template, tmp_path):
    """A fresh engine on an empty, migrated database — once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        eng = make_sqlite_engine(sqlite_template, tmp_path)
    else:
        eng = make_postgres_engine(request.getfixturevalue("postgres_ready"), tmp_path)
    yield eng
    eng.close()


@pytest.fixture
def sqlite_engine(sqlite_template, tmp_path):
    """SQLite only, for tests about behaviour that does not depend on the database."""
    eng = make_sqlite_engine(sqlite_template, tmp_path)
    yield eng
    eng.close()


class SavedStates:
    """States that take long to build (closing an item renders and signs a PDF), built once per run and
    database kind, then copied into each later test's fresh database and instance folder.

    use(engine, name, build): the first time, build(engine) on the test's engine and save the result;
    later, put the saved state into the test's engine (everything in its database before is replaced).
    Returns what build returned."""

    def __init__(self, folder: Path):
        self.folder, self.built = folder, {}

    def use(self, engine: Engine, name: str, build):
        key = f"{name}_{'sqlite' if engine.db.is_sqlite else 'postgres'}"
        if key in self.built:
            self._restore(engine, key)
        else:
            built = build(engine)
            self._save(engine, key)
            self.built[key] = built
        return self.built[key]

    def _save(self, engine: Engine, key: str) -> None:
        engine.outbox.wait_idle()
        if engine.db.is_sqlite:
            with engine.db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy(engine.db.engine.url.database, self.folder / f"{key}.db")
        else:
            with engine.db.engine.begin() as conn:
                save_postgres(conn, key)
        engine.settings.instance_path.mkdir(parents=True, exist_ok=True)
        shutil.copytree(engine.settings.instance_path, self.folder / key)

    def _restore(self, engine: Engine, key: str) -> None:
        engine.outbox.wait_idle()
        if engine.db.is_sqlite:
            engine.db.engine.dispose()  # no connection open while the file is replaced
            database = Path(engine.db.engine.url.database)
            for leftover in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copy(self.folder / f"{key}.db", database)
        else:
            with engine.db.engine.begin() as conn:
                restore_postgres(conn, key)
        shutil.rmtree(engine.settings.instance_path, ignore_errors=True)
        shutil.copytree(self.folder / key, engine.settings.instance_path)


@pytest.fixture(scope="session")
def saved_states(tmp_path_factory) -> SavedStates:
    return SavedStates(tmp_path_factory.mktemp("saved-states"))
