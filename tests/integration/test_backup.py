"""`rectify backup` / `rectify restore` round trip, on SQLite and PostgreSQL, into an empty database of
the other kind too: afterwards every signature, closure record and the audit history verify; the keys
travel in their own archive, and without it nothing verifies."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

from helpers import close_immediate_item, new_item

from engine import Engine
from engine.closure import signing
from engine.closure.records import latest_closure_pdf
from engine.closure.verification import verify_pdf
from engine.integrity import verify_history
from engine.ledger.items import list_items
from engine.store.models import IMMEDIATE
from engine.store.schema import upgrade

ROOT = Path(__file__).resolve().parents[2]


def _rectify(engine, *args, own_key: bool = True):
    """The CLI on `engine`'s deployment; `own_key=False` for a deployment whose audit key is a file
    of its instance folder (a restored one), not the environment the test run shares."""
    env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(ROOT)}
    if not own_key:
        env.pop("RECTIFY_AUDIT_KEY", None)
    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def _other_kind(engine, tmp_path, request) -> str:
    """An empty database of the kind `engine` is not: SQLite for PostgreSQL, a schema of its own on
    the test server for SQLite (dropped after the test)."""
    import secrets

    from helpers import PG_SERVER, in_schema
    from sqlalchemy import create_engine, text

    if not engine.db.is_sqlite:
        return f"sqlite:///{tmp_path / 'restored.db'}"
    request.getfixturevalue("postgres_url")  # PostgreSQL must be there (a failure in CI otherwise)
    schema, server = f"rectify_restore_{secrets.token_hex(4)}", create_engine(PG_SERVER)
    with server.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop():
        with server.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        server.dispose()

    request.addfinalizer(drop)
    return in_schema(PG_SERVER, schema)


def test_a_backup_restores_whole_and_verifies_in_the_other_database(engine, item, tmp_path, request, monkeypatch):
    signing.init_dev_certificate(engine, "市政工程管理处")
    close_immediate_item(engine, item, returns=["补充银行回单"])
    new_item(engine, IMMEDIATE, number="2")
    _, pdf = latest_closure_pdf(engine, item)
    made = _rectify(engine, "backup", str(tmp_path / "备份.tar.gz"), "--keys", str(tmp_path / "密钥.tar.gz"), "--json")
    assert made.returncode == 0, made.stderr
    with tarfile.open(tmp_path / "备份.tar.gz") as data:
        assert not [n for n in data.getnames() if n.startswith(("keys", "signing", "secret_key"))]  # kept apart

    # A new, empty database of the other kind in a new instance folder: the restore is also a migration.
    target = Engine(replace(engine.settings, database_url=_other_kind(engine, tmp_path, request),
                            instance_path=tmp_path / "restored"))
    upgrade(target)
    restored = _rectify(target, "restore", str(tmp_path / "备份.tar.gz"), "--keys", str(tmp_path / "密钥.tar.gz"),
                        "--json", own_key=False)
    assert restored.returncode == 0, restored.stderr
    monkeypatch.delenv("RECTIFY_AUDIT_KEY")
    fresh = Engine(target.settings)  # reads the restored keys
    assert [i["title"] for i in list_items(fresh)] == [i["title"] for i in list_items(engine)]
    assert verify_history(fresh).ok, verify_history(fresh).problems
    assert verify_pdf(fresh, pdf).ok
    assert _rectify(fresh, "audit", "verify", own_key=False).returncode == 0
    assert _rectify(fresh, "doctor", own_key=False).returncode == 0
    target.close()
    fresh.close()


def test_without_the_keys_archive_the_restored_history_does_not_verify(engine, item, tmp_path, monkeypatch):
    close_immediate_item(engine, item)
    assert _rectify(engine, "backup", str(tmp_path / "备份.tar.gz")).returncode == 0
    assert (tmp_path / "备份.keys.tar.gz").exists()  # written apart by default
    target = Engine(replace(engine.settings, database_url=f"sqlite:///{tmp_path / 'restored.db'}",
                            instance_path=tmp_path / "restored"))
    upgrade(target)
    assert _rectify(target, "restore", str(tmp_path / "备份.tar.gz"), own_key=False).returncode == 0
    monkeypatch.delenv("RECTIFY_AUDIT_KEY")
    stranger = Engine(target.settings)  # a new audit key of its own
    assert not verify_history(stranger).ok
    target.close()
    stranger.close()


def test_a_restore_refuses_a_database_in_use(engine, item, tmp_path):
    assert _rectify(engine, "backup", str(tmp_path / "备份.tar.gz")).returncode == 0
    refused = _rectify(engine, "restore", str(tmp_path / "备份.tar.gz"))
    assert refused.returncode == 1 and "不是空的" in refused.stderr
