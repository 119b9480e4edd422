"""The province-scale data set of the `scale` benchmark: one round imported through the real ledger
import (each item's path started by SpiffWorkflow), then copied row by row into further rounds with
new ids — items, units, people, aspects, instances (their serialized state with new task ids),
inbox tasks, timers, history — and finished-task history added in bulk to reach the target.

Copies are consistent (foreign keys, task ids in the state and in the mirror tables) but are not
sealed into the audit chain: `rectify audit verify` would report them, the pages do not care."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

from engine.ledger.rounds import add_round
from engine.ledger.xlsx.importing import apply_import
from engine.people.directory import add_user
from engine.store.models import ADMIN, CATEGORIES, DISCIPLINE, HEAD, LEADER, OFFICE, Base

from .bench_import import ASPECTS, HEADER, PROBLEMS, workbook_bytes

PASSWORD = "bench-pass-2026"
UNITS_PER_ROUND = 176
PEOPLE_PER_ROUND = 600
UNIT_NAMES = ["工程管理科", "财务科", "养护管理科", "办公室", "人事科", "党建办公室", "质量安全科", "综合执法大队",
              "排水管理所", "路灯管理所", "市政设施服务中心"]
VIEWERS = [("周婷", "整改办", [OFFICE]), ("吴磊", "纪检监察室", [DISCIPLINE]), ("刘洋", "处领导班子", [HEAD]),
           ("陈刚", "处领导班子", [LEADER]), ("黄建国", "处领导班子", [LEADER]), ("孙浩", "办公室", [ADMIN])]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ITEM_ID = re.compile(r'"item_id": ?\d+')


def unit_name(n: int, copy: int = 0) -> str:
    return f"{UNIT_NAMES[n % len(UNIT_NAMES)]}第{n + copy * UNITS_PER_ROUND}分部"


def ledger(rows: int) -> bytes:
    """`rows` problems in 8 aspects; 176 units, 600 people (each person in one unit)."""
    today = date.today()
    out = []
    for n in range(1, rows + 1):
        aspect, title, _, _, _, leader, days, _ = PROBLEMS[n % len(PROBLEMS)]
        person = n % PEOPLE_PER_ROUND
        deadline = today + timedelta(days=max(days, 3) + n % 90)
        out.append({"序号": n, "方面": ASPECTS[aspect], "问题": f"{title}（{n}）",
                    "问题描述": f"巡察发现，{unit_name(person % UNITS_PER_ROUND)}存在{title}的问题，涉及金额{n * 37}元。",
                    "整改类别": CATEGORIES[n % 3], "责任单位": unit_name(person % UNITS_PER_ROUND),
                    "责任人": f"干部{person:04d}", "分管领导": leader if leader in ("陈刚", "黄建国", "刘洋") else "陈刚",
                    "完成标准": "整改到位，佐证材料齐全", "整改时限": deadline.isoformat()})
    return workbook_bytes(out, HEADER)


def _next_id(session, table) -> int:
    return (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1


def _insert(session, table, rows: list[dict], chunk: int = 2_000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(insert(table), rows[start:start + chunk])


def _remap_uuid(copy: int):
    """A bijection on task ids for one copy: the first eight hex digits xor a copy's constant."""
    key = (copy * 0x9E3779B1) & 0xFFFFFFFF

    def remap(value: str | None) -> str | None:
        if value is None:
            return None
        return f"{int(value[:8], 16) ^ key:08x}{value[8:]}"
    return remap


def copy_round(engine, source_round_id: int, copy: int) -> int:
    """A new round with every item of `source_round_id` and what hangs off it, under new ids."""
    t = Base.metadata.tables
    remap = _remap_uuid(copy)
    with engine.db.transaction() as s:
        rnd = dict(s.execute(select(t["rounds"]).where(t["rounds"].c.id == source_round_id)).mappings().one())
        round_id = _next_id(s, t["rounds"])
        s.execute(insert(t["rounds"]), [rnd | {"id": round_id, "name": f"{rnd['name']}（第{copy + 1}轮）"}])
        items = [dict(r) for r in s.execute(select(t["items"]).where(t["items"].c.round_id == source_round_id)
                                            .order_by(t["items"].c.id)).mappings()]
        ids = [i["id"] for i in items]
        # Aspects, units, people (and their roles) of this round's items, each under a new id.
        aspect_map, unit_map, user_map = {}, {}, {}
        next_aspect = _next_id(s, t["aspects"])
        rows = []
        for a in s.execute(select(t["aspects"]).where(t["aspects"].c.round_id == source_round_id)).mappings():
            aspect_map[a["id"]] = next_aspect
            rows.append(dict(a) | {"id": next_aspect, "round_id": round_id})
            next_aspect += 1
        _insert(s, t["aspects"], rows)
        next_unit, rows = _next_id(s, t["units"]), []
        for u in s.execute(select(t["units"]).where(t["units"].c.id.in_({i["unit_id"] for i in items}))).mappings():
            unit_map[u["id"]] = next_unit
            rows.append({"id": next_unit, "name": f"{u['name']}{copy + 1}"})
            next_unit += 1
        _insert(s, t["units"], rows)
        next_user, rows = _next_id(s, t["users"]), []
        for u in s.execute(select(t["users"]).where(t["users"].c.id.in_({i["person_id"] for i in items}))).mappings():
            user_map[u["id"]] = next_user
            rows.append(dict(u) | {"id": next_user, "unit_id": unit_map.get(u["unit_id"], u["unit_id"]), "login": None})
            next_user += 1
        _insert(s, t["users"], rows)
        next_grant, rows = _next_id(s, t["role_grants"]), []
        for g in s.execute(select(t["role_grants"]).where(t["role_grants"].c.user_id.in_(list(user_map)))).mappings():
            rows.append({"id": next_grant, "user_id": user_map[g["user_id"]], "role": g["role"]})
            next_grant += 1
        _insert(s, t["role_grants"], rows)
        item_map, next_item, rows = {}, _next_id(s, t["items"]), []
        for i in items:
            item_map[i["id"]] = next_item
            rows.append(i | {"id": next_item, "round_id": round_id, "aspect_id": aspect_map.get(i["aspect_id"]),
                             "unit_id": unit_map[i["unit_id"]], "person_id": user_map[i["person_id"]]})
            next_item += 1
        _insert(s, t["items"], rows)
        instance_map, next_instance, rows = {}, _next_id(s, t["process_instances"]), []
        for p in s.execute(select(t["process_instances"]).where(t["process_instances"].c.item_id.in_(ids))).mappings():
            instance_map[p["id"]] = next_instance
            new_item = item_map[p["item_id"]]
            state = ITEM_ID.sub(f'"item_id": {new_item}', UUID.sub(lambda m: remap(m.group(0)), p["state"]))
            rows.append(dict(p) | {"id": next_instance, "item_id": new_item, "state": state})
            next_instance += 1
        _insert(s, t["process_instances"], rows, chunk=500)
        rows = [dict(r) | {"id": remap(r["id"]), "instance_id": instance_map[r["instance_id"]],
                           "item_id": item_map[r["item_id"]], "assignee_id": user_map.get(r["assignee_id"], r["assignee_id"]),
                           "scope_unit_id": unit_map.get(r["scope_unit_id"], r["scope_unit_id"])}
                for r in s.execute(select(t["inbox_tasks"]).where(t["inbox_tasks"].c.item_id.in_(ids))).mappings()]
        _insert(s, t["inbox_tasks"], rows)
        next_timer, rows = _next_id(s, t["timers"]), []
        for r in s.execute(select(t["timers"]).where(t["timers"].c.instance_id.in_(list(instance_map)))).mappings():
            rows.append(dict(r) | {"id": next_timer, "instance_id": instance_map[r["instance_id"]],
                                   "task_id": remap(r["task_id"])})
            next_timer += 1
        _insert(s, t["timers"], rows)
        next_record, rows = _next_id(s, t["task_records"]), []
        for r in s.execute(select(t["task_records"]).where(t["task_records"].c.item_id.in_(ids))).mappings():
            rows.append(dict(r) | {"id": next_record, "task_id": remap(r["task_id"]),
                                   "instance_id": instance_map[r["instance_id"]], "item_id": item_map[r["item_id"]],
                                   "completed_by": user_map.get(r["completed_by"], r["completed_by"])})
            next_record += 1
        _insert(s, t["task_records"], rows)
    return round_id


def add_history(engine, target: int) -> int:
    """Finished 月度报告 steps (history rows) spread over every item until there are `target` records."""
    t = Base.metadata.tables
    with engine.db.transaction() as s:
        have = s.execute(select(func.count()).select_from(t["task_records"])).scalar_one()
        items = s.execute(select(t["items"].c.id, t["items"].c.person_id).order_by(t["items"].c.id)).all()
        instances = dict(s.execute(select(t["process_instances"].c.item_id, func.min(t["process_instances"].c.id))
                                   .group_by(t["process_instances"].c.item_id)).all())
        missing = max(0, target - have)
        base = datetime.now(timezone.utc) - timedelta(days=15)
        next_id, rows = _next_id(s, t["task_records"]), []
        for n in range(missing):
            item_id, person_id = items[n % len(items)]
            rows.append({"id": next_id + n, "task_id": str(uuid.uuid4()), "instance_id": instances[item_id],
                         "item_id": item_id, "bpmn_id": "monthly_report", "name": "报送整改进展", "kind": "user",
                         "outcome": "completed", "completed_by": person_id, "completed_at": base + timedelta(minutes=n % 20_000),
                         "data": {"progress": f"第{n // len(items) + 1}次报送：按计划推进，已完成阶段性任务。"}})
            if len(rows) == 5_000:
                _insert(s, t["task_records"], rows, chunk=5_000)
                rows = []
        _insert(s, t["task_records"], rows, chunk=5_000)
        return have + missing


def fix_sequences(engine) -> None:
    """PostgreSQL: every id sequence after the explicit ids the copies inserted."""
    if engine.db.engine.dialect.name != "postgresql":
        return
    with engine.db.engine.begin() as conn:
        for table in ("rounds", "aspects", "units", "users", "role_grants", "items", "process_instances", "timers",
                      "task_records"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"))


def build(engine, rounds: int, per_round: int, history: int) -> dict:
    """The data set in `engine`'s (migrated, deployed) database: {"rounds": [ids], "items", "records"}."""
    for name, unit, roles in VIEWERS:
        add_user(engine, name, unit, roles, PASSWORD)
    feedback = date.today() - timedelta(days=20)
    add_round(engine, "规模基准", "市委第三巡察组", "市政工程管理处", feedback)
    apply_import(engine, "规模基准", ledger(per_round), actor="bench")
    with engine.db.reading() as s:
        first = s.execute(select(Base.metadata.tables["rounds"].c.id)).scalar_one()
    ids = [first] + [copy_round(engine, first, copy) for copy in range(1, rounds)]
    fix_sequences(engine)
    records = add_history(engine, history)
    fix_sequences(engine)
    with engine.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        units = conn.execute(text("SELECT count(*) FROM units")).scalar_one()
    return {"rounds": ids, "items": rounds * per_round, "records": records, "users": users, "units": units}
