"""The dashboard among much history: rules (建章立制) are counted right among 20,000 other task records,
and found through a partial index (migration 0023 on PostgreSQL, 0025 on SQLite) instead of reading
every record."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from helpers import new_item, new_round
from sqlalchemy import event, insert, select, text

from engine.reports.dashboard import dashboard
from engine.reports.round_work import rule_rows
from engine.store.models import IMMEDIATE, ProcessInstance, TaskRecord


def _history(engine, item_id: int, records: int, rules: list[dict]) -> None:
    now = datetime.now(timezone.utc)
    with engine.db.transaction() as s:
        instance = s.execute(select(ProcessInstance.id).where(ProcessInstance.item_id == item_id)).scalar_one()
        row = {"instance_id": instance, "item_id": item_id, "bpmn_id": "monthly_report", "name": "报送整改进展",
               "kind": "user", "outcome": "completed", "completed_at": now}
        s.execute(insert(TaskRecord), [row | {"task_id": str(uuid.uuid4()), "data": {"progress": f"第{n}次报送"}}
                                       for n in range(records)]
                  + [row | {"task_id": str(uuid.uuid4()), "bpmn_id": "rules", "data": rule} for rule in rules])


def test_rules_are_counted_among_much_history_and_found_by_index(engine):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    _history(engine, item, 20_000, [{"doc_number": "财发〔2026〕1号", "title": "津贴补贴发放管理办法"},
                                    {"doc_number": "财发〔2026〕1号", "title": "津贴补贴发放管理办法"},  # once
                                    {"doc_number": "财发〔2026〕2号", "title": "报销审核规定"}])
    assert dashboard(engine, "测试轮次")["rules"] == 2
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "doc_number" in str(parameters):
            seen.append((statement, parameters))

    with engine.db.engine.begin() as conn:
        conn.execute(text("ANALYZE task_records" if not engine.db.is_sqlite else "ANALYZE"))
    event.listen(engine.db.engine, "before_cursor_execute", capture)
    try:
        with engine.db.reading() as s:
            assert len(rule_rows(s, None)) == 2
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    with engine.db.engine.connect() as conn:
        explain = "EXPLAIN QUERY PLAN" if engine.db.is_sqlite else "EXPLAIN"
        plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(f"{explain} {statement}", parameters))
    assert "ix_task_records_doc_number" in plan, plan
