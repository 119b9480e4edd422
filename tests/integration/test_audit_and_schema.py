"""The audit chain catches tampering; migrations build exactly the model's schema on both databases."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import close_immediate_item, without_triggers
from sqlalchemy import text

from engine.process.deploy import DEFAULT_FILES
from engine.store import audit
from engine.store.audit import verify_chain
from engine.store.models import Base
from engine.work.signoff import verify_item_chain


@pytest.fixture
def closed_item(engine, item):
    """The item closed after one return."""
    close_immediate_item(engine, item, returns=["补充材料"])
    return item


def test_audit_chain_verifies_and_names_the_first_changed_row(engine, closed_item):
    with engine.db.reading() as s:
        report = verify_chain(s, engine.db.audit_key)
    assert report.ok and report.rows > 10
    without_triggers(engine, "audit_log", "UPDATE audit_log SET actor = '某人' WHERE id = 5")
    with engine.db.reading() as s:
        report = verify_chain(s, engine.db.audit_key)
    assert not report.ok and report.first_broken_id == 5 and "篡改" in report.reason


def test_an_append_onto_a_head_another_writer_moved_chains_onto_the_new_head(engine):
    """An append chains onto the head as read with the rows it works on, moving it only if nobody appended
    since; when somebody did, it must chain onto theirs (not fork the chain, not write its row twice)."""
    with engine.db.transaction() as s:
        rows_before = s.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one()
        audit.append(s, "test.first", "test", 1, "甲")  # takes the head by the locking path
        stale = s.execute(text("SELECT count, last_hash, keyed_from FROM audit_head")).one()
        audit.append(s, "test.other_writer", "test", 2, "乙")  # as if another writer appended meanwhile
        audit.remember_head(s, *stale)
        audit.append(s, "test.late", "test", 3, "丙")
    with engine.db.reading() as s:
        assert s.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one() == rows_before + 3
        assert s.execute(text("SELECT count FROM audit_head")).scalar_one() == rows_before + 3
        last = s.execute(text("SELECT action, prev_hash FROM audit_log ORDER BY id DESC LIMIT 2")).all()
        report = verify_chain(s, engine.db.audit_key)
    assert [action for action, _ in last] == ["test.late", "test.other_writer"]
    assert last[0][1] != stale[1] and report.ok and report.rows == rows_before + 3


def test_deleting_the_last_audit_rows_is_detected(engine, closed_item):
    without_triggers(engine, "audit_log", "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
    with engine.db.reading() as s:
        report = verify_chain(s, engine.db.audit_key)
    assert not report.ok and "删除" in report.reason


def test_a_changed_signature_breaks_the_item_chain(engine, closed_item):
    with engine.db.reading() as s:
        assert verify_item_chain(s, closed_item).ok
    without_triggers(engine, "signatures", "UPDATE signatures SET opinion = '同意' WHERE seq = 1")
    with engine.db.reading() as s:
        check = verify_item_chain(s, closed_item)
    assert not check.ok and "第 1 个签字" in check.problem


def _on_this_database(dialect: str):
    """Alembic's comparison filter: leave out what the model declares for another database only
    (`Index(...).ddl_if(dialect=...)`, such as PostgreSQL's trigram indexes)."""
    def include(obj, _name, type_, _reflected, _compare_to):
        wanted = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return type_ != "index" or wanted is None or wanted == dialect
    return include


def test_migrations_match_the_models(engine):
    with engine.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _on_this_database(conn.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    # The chain head the migration seeds; deploying the default workflows wrote one row each.
    with engine.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count FROM audit_head WHERE id = 1")).scalar_one() == len(DEFAULT_FILES)


def test_the_admin_status_walks_only_new_rows_between_hourly_full_walks(engine, item):
    """The admin page's chain status: the first look walks the whole chain; later looks walk the rows added
    since (and check that the last row walked is unchanged); a change to an older row shows at the next
    full walk, at most an hour later."""
    from engine.store import audit

    status = audit.chain_status(engine)
    assert status["ok"] and status["rows"] > 3
    close_immediate_item(engine, item)  # new rows after the walk
    assert audit.chain_status(engine)["ok"]
    rows = audit.chain_status(engine)["rows"]
    without_triggers(engine, "audit_log", f"UPDATE audit_log SET actor = '某人' WHERE id = {rows}")
    broken = audit.chain_status(engine)
    assert not broken["ok"] and broken["first_broken_id"] == rows  # the last row walked was changed
    audit._verified.pop(engine, None)
    without_triggers(engine, "audit_log", f"UPDATE audit_log SET actor = NULL WHERE id = {rows}",
                     "UPDATE audit_log SET actor = '某人' WHERE id = 2")
    full = audit.chain_status(engine)  # a fresh walk finds the older row
    assert not full["ok"] and full["first_broken_id"] == 2


@pytest.mark.parametrize("query, expected", [("", "10"), ("connect_timeout=3", "3")], ids=["default", "from-url"])
def test_postgresql_connections_give_up_on_a_silent_host_in_seconds(postgres_url, query, expected):
    from sqlalchemy import event

    from engine.store.db import make_sql_engine

    url = postgres_url + ("&" if "?" in postgres_url else "?") + query if query else postgres_url
    engine = make_sql_engine(url)
    asked = {}
    event.listen(engine, "do_connect", lambda dialect, record, cargs, cparams: asked.update(cparams))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
    assert str(asked["connect_timeout"]) == expected
