"""Lights, 问责 escalation exactly once, concurrent writers, and long histories."""
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpers import FIX, close_immediate_item, do, evidence, new_item, new_round, open_tasks, people, task_id
from sqlalchemy import select

from engine.errors import Conflict
from engine.ledger.detail import item_detail
from engine.people.directory import user_id_of
from engine.process.timers import tick
from engine.store.models import IMMEDIATE, InboxTask, ProcessInstance
from engine.work.completion import complete_task

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour=9):
    return datetime.combine(day, time(hour), SHANGHAI)


def accountability_tasks(engine, item):
    return [t for t in open_tasks(engine, item) if t["bpmn_id"] == "accountability_task"]


def test_lights_follow_the_clock_and_red_escalates_once(engine, item):
    deadline = item_detail(engine, item)["deadline"]
    d = datetime.fromisoformat(deadline).date()
    tick(engine, at(d - timedelta(days=10)))
    assert item_detail(engine, item)["light"] == "绿"
    tick(engine, at(d - timedelta(days=3)))
    assert item_detail(engine, item)["light"] == "蓝"
    tick(engine, at(d + timedelta(days=1)))
    assert item_detail(engine, item)["light"] == "黄"
    tick(engine, at(d + timedelta(days=30)))
    assert item_detail(engine, item)["light"] == "黄" and accountability_tasks(engine, item) == []
    for _ in range(3):  # tick is idempotent: one 问责 task however often it runs
        tick(engine, at(d + timedelta(days=31)))
    tick(engine, at(d + timedelta(days=60)))
    assert item_detail(engine, item)["light"] == "红"
    (task,) = accountability_tasks(engine, item)
    assert task["role"] == "纪检监察" and task["assignee"] == "（纪检监察）"
    # Closing the item ends the open escalation task.
    close_immediate_item(engine, item)
    detail = item_detail(engine, item)
    assert detail["open_tasks"] == [] and detail["light"] == "已销号"
    assert any(h["bpmn_id"] == "accountability_task" and h["outcome"] == "cancelled" for h in detail["history"])


def test_two_tick_workers_at_once_escalate_exactly_once(engine, item):
    d = datetime.fromisoformat(item_detail(engine, item)["deadline"]).date()
    moment = at(d + timedelta(days=40))
    barrier, errors = threading.Barrier(2), []

    def worker():
        barrier.wait()
        try:
            tick(engine, moment)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(accountability_tasks(engine, item)) == 1


def test_concurrent_completion_of_one_task_exactly_one_wins(engine, item):
    tid = task_id(engine, item, "fix_task")
    officer = user_id_of(engine, "张伟")
    barrier, outcomes = threading.Barrier(4), []

    def worker(n):
        barrier.wait()
        try:
            complete_task(engine, tid, FIX | {"result": f"第{n}次"}, officer, None, evidence())
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 4 and outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or "已由他人" in o or "同时" in o for o in outcomes), outcomes
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["unit_head_review"]
    assert sum(1 for h in item_detail(engine, item)["history"] if h["bpmn_id"] == "fix_task") == 1


def _open(engine, item_id, bpmn_id):
    with engine.db.reading() as s:
        return s.execute(select(InboxTask.id).where(InboxTask.item_id == item_id, InboxTask.bpmn_id == bpmn_id)).scalar_one()


def test_600_returns_stay_open_correct_and_as_cheap_as_a_new_item(sqlite_engine):
    # History growth is the engine's concern, not the database's: SQLite alone keeps the suite short.
    engine = sqlite_engine
    people(engine)
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    fresh = new_item(engine, IMMEDIATE, number="2")
    officer, head = user_id_of(engine, "张伟"), user_id_of(engine, "李娜")
    from helpers import PASSWORD
    for n in range(600):
        complete_task(engine, _open(engine, item, "fix_task"), FIX, officer, None, evidence())
        complete_task(engine, _open(engine, item, "unit_head_review"), {"decision": "reject", "opinion": f"第{n + 1}次退回"},
                      head, PASSWORD)
    # The other item is returned once: each step done once is what compaction keeps for rewinding.
    complete_task(engine, _open(engine, fresh, "fix_task"), FIX, officer, None, evidence())
    complete_task(engine, _open(engine, fresh, "unit_head_review"), {"decision": "reject", "opinion": "退回"}, head, PASSWORD)
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["fix_task"]
    detail = item_detail(engine, item)
    assert detail["status"] == "整改中" and len(detail["signatures"]) == 600 and detail["signature_chain_ok"]
    with engine.db.reading() as s:
        old, new = (s.execute(select(ProcessInstance).where(ProcessInstance.item_id == i)).scalar_one() for i in (item, fresh))
        # What a load/run/save costs is what is loaded and saved: the same tree as an item returned once.
        assert old.tree_depth == new.tree_depth and old.tree_size == new.tree_size
        assert len(old.state) < len(new.state) * 1.3
    sign_result = do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    assert sign_result["item_status"] == "整改中"


def test_one_failing_process_does_not_stop_the_sweep(engine, item, monkeypatch):
    """A workflow that fails when its timer fires is reported and left for the next tick; the rest of its
    batch fires, and nothing of the failed one (tasks, notifications, audit) is half kept."""
    from engine.notify.centre import Notification
    from engine.process import timers
    from engine.store.models import AuditEntry

    others = [new_item(engine, IMMEDIATE, number=str(n)) for n in range(2, 5)]
    real_advance = timers.advance

    def broken_for_item(engine_, session, instance, workflow, item_, ctx):
        real_advance(engine_, session, instance, workflow, item_, ctx)  # writes its rows and events, then fails
        if item_.id == item:
            raise RuntimeError("脚本出错")

    monkeypatch.setattr(timers, "advance", broken_for_item)
    moment = at(datetime.fromisoformat(item_detail(engine, item)["deadline"]).date() + timedelta(days=40))
    report = tick(engine, moment)
    assert [(f["item_id"], f["error"]) for f in report.failed] == [(item, "RuntimeError: 脚本出错")]
    assert report.timers_fired == 3 and all(len(accountability_tasks(engine, o)) == 1 for o in others)
    assert accountability_tasks(engine, item) == []
    with engine.db.reading() as session:
        told = session.execute(select(Notification.item_id).where(Notification.kind == "问责")).scalars().all()
        fired = session.execute(select(AuditEntry.object_id).where(AuditEntry.action == "timer.fire")).scalars().all()
    assert item not in told and len(fired) == 3

    monkeypatch.setattr(timers, "advance", real_advance)  # fixed: the next tick fires what was left
    assert tick(engine, moment).timers_fired == 1 and len(accountability_tasks(engine, item)) == 1
