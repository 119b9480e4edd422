"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL is at RECTIFY_TEST_POSTGRES_URL (default: the machine's local server, database `test`,
in a schema of our own). In CI (CI=true) an unreachable PostgreSQL fails the run: it never skips."""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("RECTIFY_PASSWORD_PROFILE", "test")
from sqlalchemy import create_engine, text

from engine import Engine, Settings
from engine.process.deploy import deploy_defaults
from engine.store.schema import upgrade

PG_URL = os.environ.get(
    "RECTIFY_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Drectify_test",
)
PG_SCHEMA = "rectify_test"


def _pg_reachable() -> str | None:
    try:
        eng = create_engine(PG_URL.split("?")[0])
        with eng.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]


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
def postgres_ready():
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable here: {problem}")
    engine = Engine(settings_for(PG_URL, Path("/tmp/rectify-pg-instance")))
    upgrade(engine)
    tables = [r for r in engine.db.engine.dialect.get_table_names(engine.db.engine.connect(), schema=PG_SCHEMA)
              if r not in ("alembic_version",)]
    engine.close()
    return tables


def make_sqlite_engine(template: Path, tmp_path: Path) -> Engine:
    db = tmp_path / "rectify.db"
    shutil.copy(template, db)
    return Engine(settings_for(f"sqlite:///{db}", tmp_path / "instance"))


def make_postgres_engine(tables: list[str], tmp_path: Path) -> Engine:
    engine = Engine(settings_for(PG_URL, tmp_path / "instance"))
    with engine.db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, last_hash, count) VALUES (1, :g, 0)"), {"g": "0" * 64})
    deploy_defaults(engine, actor="tests")
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
