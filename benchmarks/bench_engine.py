"""Engine benchmarks 1–4: task completion against bare SpiffWorkflow, history growth, the inbox at
100,000 open tasks, starting 2,000 items."""
from __future__ import annotations

import random
import time
from datetime import date, timedelta

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, insert, select

from engine.clock import CLOCK
from engine.demo import DEMO_USERS
from engine.ledger.items import NewItem, add_item
from engine.ledger.rounds import add_round
from engine.people.directory import add_user, user_id_of
from engine.process.instances import load_workflow
from engine.store.models import (
    IMMEDIATE,
    InboxTask,
    Item,
    ProcessInstance,
    ProcessVersion,
    RoleGrant,
    Round,
    Unit,
    User,
)
from engine.work.completion import complete_task
from engine.work.evidence import Upload
from engine.work.inbox import InboxFilter, inbox

from .harness import summary

PASSWORD = "bench-pass-2026"
FIX = {"measures": "追回违规发放的津贴", "result": "已全部追回", "completed_on": "2026-11-20"}
EVIDENCE = (Upload("回单.pdf", b"%PDF-1.4 " + b"x" * 20_000),)
DEADLINE = date.today() + timedelta(days=90)


def _cast(engine) -> None:
    for name, unit, roles in DEMO_USERS:
        add_user(engine, name, unit, roles, PASSWORD)
    add_round(engine, "基准轮次", "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=20))


def _item(engine, number: int) -> int:
    return add_item(engine, "基准轮次", NewItem(number=str(number), title=f"基准问题{number}", category=IMMEDIATE,
                                           unit="财务科", person="张伟", leader="陈刚", deadline=DEADLINE))["id"]


def _open_task(engine, item_id: int) -> str:
    with engine.db.reading() as s:
        return s.execute(select(InboxTask.id).where(InboxTask.item_id == item_id)).scalar_one()


def bench_completion(engine, n: int = 150) -> dict:
    """1. Completing 落实整改 end to end (load, validate, run, save, inbox, history, audit) against the
    same step on SpiffWorkflow alone, in memory."""
    _cast(engine)
    officer = user_id_of(engine, "张伟")
    items = [_item(engine, i) for i in range(1, n + 1)]
    with engine.db.reading() as s:
        instance = s.execute(select(ProcessInstance).where(ProcessInstance.item_id == items[-1])).unique().scalar_one()
        workflow, spec = load_workflow(engine, instance)
    state = engine.processes.dumps(workflow)
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    stock_state = stock.serialize_json(workflow)

    engine_samples = []
    for item in items[:-5]:
        task = _open_task(engine, item)
        start = time.perf_counter()
        complete_task(engine, task, dict(FIX), officer, None, EVIDENCE)
        engine_samples.append(time.perf_counter() - start)
    last = [_open_task(engine, item) for item in items[-5:]]
    statements = _statements(engine, lambda: [complete_task(engine, task, dict(FIX), officer, None, EVIDENCE)
                                              for task in last]) / 5

    def bare_step(load, dump):
        wf = load()
        (ready,) = [t for t in wf.get_tasks(state=TaskState.READY, manual=True)]
        ready.data.update(FIX)
        ready.run()
        wf.do_engine_steps()
        dump(wf)

    bare, bare_stock = [], []
    for _ in range(n):
        start = time.perf_counter()
        bare_step(lambda: engine.processes.loads(state, spec), engine.processes.dumps)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_step(lambda: stock.deserialize_json(stock_state), stock.serialize_json)
        bare_stock.append(time.perf_counter() - start)
    result = {"engine": summary(engine_samples), "bare_spiff_cached_spec": summary(bare),
              "bare_spiff_stock_serializer": summary(bare_stock)}
    result["ratio_vs_bare"] = result["engine"]["median_ms"] / result["bare_spiff_cached_spec"]["median_ms"]
    result["ratio_vs_stock"] = result["engine"]["median_ms"] / result["bare_spiff_stock_serializer"]["median_ms"]
    result["tasks_per_second_one_core"] = 1000 / result["engine"]["median_ms"]
    result["statements_per_completion"] = statements  # SQL statements a completion sends, BEGIN included
    return result


def _statements(engine, action) -> int:
    """How many SQL statements `action` sends (counted apart from the timed runs)."""
    sent = []

    def count(*_args):
        sent.append(1)

    event.listen(engine.db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", count)
    return len(sent)


def bench_history(engine, points=(5, 50, 500), window: int = 15) -> dict:
    """2. The cost of completing 落实整改 on an item with N completed tasks behind it (退回 loops)."""
    if not engine_has_cast(engine):
        _cast(engine)
    officer, head = user_id_of(engine, "张伟"), user_id_of(engine, "李娜")
    item = _item(engine, 900_001)
    done, out = 0, {}

    def one_loop(timed: list | None):
        nonlocal done
        start = time.perf_counter()
        complete_task(engine, _open_task(engine, item), dict(FIX), officer, None, EVIDENCE)
        if timed is not None:
            timed.append(time.perf_counter() - start)
        complete_task(engine, _open_task(engine, item), {"decision": "reject", "opinion": "请补充"}, head, PASSWORD)
        done += 2

    for point in points:
        while done < point:
            one_loop(None)
        samples: list[float] = []
        for _ in range(window):
            one_loop(samples)
        with engine.db.reading() as s:
            instance = s.execute(select(ProcessInstance).where(ProcessInstance.item_id == item)).unique().scalar_one()
            out[str(point)] = summary(samples) | {"tree_depth": instance.tree_depth, "tree_size": instance.tree_size,
                                                 "state_bytes": len(instance.state)}
    out["ratio_500_5"] = out[str(points[-1])]["median_ms"] / out[str(points[0])]["median_ms"]
    return out


def engine_has_cast(engine) -> bool:
    with engine.db.reading() as s:
        return s.execute(select(Round.id).where(Round.name == "基准轮次")).first() is not None


def bench_inbox(engine, tasks: int = 100_000, users: int = 2_000, queries: int = 300) -> dict:
    """3. One user's first inbox page with 100,000 open tasks of 2,000 users in the database."""
    now = CLOCK.now()
    with engine.db.transaction() as s:
        version = s.execute(select(ProcessVersion.id).where(ProcessVersion.process_id == "immediate",
                                                            ProcessVersion.is_current)).scalar_one()
        unit_ids = [s.execute(insert(Unit).values(name=f"单位{u}").returning(Unit.id)).scalar_one() for u in range(20)]
        user_rows = [{"name": f"用户{i}", "unit_id": unit_ids[i % 20], "password_hash": None, "active": True,
                      "created_at": now} for i in range(users)]
        s.execute(insert(User), user_rows)
        user_ids = list(s.execute(select(User.id).where(User.name.like("用户%"))).scalars())
        s.execute(insert(RoleGrant), [{"user_id": uid, "role": "责任人"} for uid in user_ids])
        round_id = s.execute(insert(Round).values(name="收件箱基准", inspection_group="组", inspected_body="单位",
                                                  feedback_date=date.today(), created_at=now).returning(Round.id)).scalar_one()
        per_item = 2
        item_rows = [{"round_id": round_id, "number": str(i), "title": f"问题{i}", "description": "", "category": IMMEDIATE,
                      "unit_id": unit_ids[i % 20], "person_id": user_ids[i % users], "leader_id": user_ids[(i + 7) % users],
                      "deadline": DEADLINE - timedelta(days=i % 200), "standard": "", "needs_third_party": False,
                      "publish": True, "status": "整改中", "light": "绿", "created_at": now}
                     for i in range(tasks // per_item)]
        for chunk in range(0, len(item_rows), 5000):
            s.execute(insert(Item), item_rows[chunk:chunk + 5000])
        item_ids = list(s.execute(select(Item.id, Item.person_id, Item.unit_id, Item.deadline)
                                  .where(Item.round_id == round_id)))
        instance_rows = [{"item_id": i.id, "version_id": version, "state": "{}", "completed": False, "tree_depth": 0,
                          "tree_size": 0, "revision": 1, "created_at": now, "updated_at": now} for i in item_ids]
        for chunk in range(0, len(instance_rows), 5000):
            s.execute(insert(ProcessInstance), instance_rows[chunk:chunk + 5000])
        instance_of = dict(s.execute(select(ProcessInstance.item_id, ProcessInstance.id)).all())
        inbox_rows = []
        for n, i in enumerate(item_ids):
            inbox_rows.append({"id": f"00000000-0000-4000-8000-{n:012d}", "instance_id": instance_of[i.id], "item_id": i.id,
                               "bpmn_id": "fix_task", "name": "落实整改", "lane_role": "责任人", "assignee_id": i.person_id,
                               "scope_unit_id": None, "form_key": "immediate_fix", "signoff": False,
                               "due_date": i.deadline, "created_at": now})
            inbox_rows.append({"id": f"00000000-0000-4000-9000-{n:012d}", "instance_id": instance_of[i.id], "item_id": i.id,
                               "bpmn_id": "unit_head_review", "name": "审核", "lane_role": "责任单位负责人",
                               "assignee_id": None, "scope_unit_id": i.unit_id, "form_key": "signoff", "signoff": True,
                               "due_date": i.deadline, "created_at": now})
        for chunk in range(0, len(inbox_rows), 5000):
            s.execute(insert(InboxTask), inbox_rows[chunk:chunk + 5000])
    with engine.db.reading() as s:
        total = s.execute(select(InboxTask.id)).all()
    rng = random.Random(7)
    samples = []
    for _ in range(queries):
        uid = rng.choice(user_ids)
        start = time.perf_counter()
        page = inbox(engine, uid, InboxFilter(per_page=20))
        samples.append(time.perf_counter() - start)
        assert page["tasks"], "every synthetic user has tasks"
    return {"open_tasks": len(total), "users": users, **summary(samples)}
