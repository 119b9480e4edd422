"""Helpers to drive items through their paths in tests, the way people would."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.config import Settings
from engine.demo import DEMO_USERS
from engine.ledger.detail import item_detail
from engine.ledger.items import NewItem, add_item
from engine.ledger.rounds import add_round
from engine.people.directory import add_user, user_id_of
from engine.work.completion import complete_task
from engine.work.evidence import Upload

PASSWORD = "test-pass-2026"
# The body's date, as the engine counts days (its time zone, not the machine's: 22:00 UTC is
# already tomorrow in Beijing).
TODAY = datetime.now(ZoneInfo(Settings.timezone)).date()
FEEDBACK = TODAY - timedelta(days=20)
DEADLINE = TODAY + timedelta(days=60)


def people(engine) -> None:
    for name, unit, roles in DEMO_USERS:
        add_user(engine, name, unit, roles, PASSWORD)


def new_round(engine, name: str = "测试轮次") -> str:
    add_round(engine, name, "市委第三巡察组", "市政工程管理处", FEEDBACK)
    return name


def new_item(engine, category: str, number: str = "1", deadline: date = DEADLINE, third_party=False,
             round_name: str = "测试轮次", unit="财务科", person="张伟") -> int:
    return add_item(engine, round_name, NewItem(
        number=number, title=f"测试问题{number}", category=category, unit=unit, person=person, leader="陈刚",
        deadline=deadline, aspect="（一）测试方面", third_party=third_party,
    ))["id"]


def open_tasks(engine, item_id: int) -> list[dict]:
    return item_detail(engine, item_id)["open_tasks"]


def task_id(engine, item_id: int, bpmn_id: str) -> str:
    matching = [t for t in open_tasks(engine, item_id) if t["bpmn_id"] == bpmn_id]
    assert len(matching) == 1, f"expected one open {bpmn_id}, open: {[t['bpmn_id'] for t in open_tasks(engine, item_id)]}"
    return matching[0]["id"]


def do(engine, item_id: int, bpmn_id: str, who: str, data: dict, password: str | None = None, files=()):
    tid = task_id(engine, item_id, bpmn_id)
    return complete_task(engine, tid, data, user_id_of(engine, who), password, tuple(files))


def sign(engine, item_id, bpmn_id, who, decision="approve", opinion="同意"):
    return do(engine, item_id, bpmn_id, who, {"decision": decision, "opinion": opinion}, PASSWORD)


def evidence(name="整改佐证.pdf", content=b"%PDF-1.4 evidence"):
    return (Upload(name, content),)


FIX = {"measures": "已追回违规发放的津贴", "result": "全部追回并上缴", "completed_on": "2026-03-01"}


def without_triggers(engine, table, statement):
    """What a tamperer with database access would do: get past the append-only triggers."""
    with engine.db.engine.begin() as conn:
        if engine.db.is_sqlite:
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        else:
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        conn.exec_driver_sql(statement)
        if not engine.db.is_sqlite:
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
