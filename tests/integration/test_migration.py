"""Migrating running items to a newer version with SpiffWorkflow's diff and migration: the preview
says per item whether it can move and why not; moved items have their inbox, timers and light right
at once and go on on the new version; a migration is reverted while nothing has happened since."""
import re

import pytest
from helpers import FIX, do, evidence, new_item, open_tasks, sign
from sqlalchemy import select

from engine.config import REPO_ROOT
from engine.errors import Conflict
from engine.ledger.detail import item_detail
from engine.people.directory import user_id_of
from engine.process.designs import deploy_xml
from engine.process.migration import migrate_items, migration_preview, revert_migration
from engine.store.models import (
    IMMEDIATE,
    LONG_TERM,
    TIME_LIMITED,
    AuditEntry,
    Item,
    Timer,
)

PLAN = {"measures": "修订工程变更审批办法", "milestones": [{"title": "完成修订", "due": "2026-03-01"}],
        "planned_completion": "2026-04-30"}


def workflow(name: str) -> str:
    return (REPO_ROOT / "workflows" / name).read_text(encoding="utf-8")


def deploy(engine, name: str, xml: str, comment: str = "新版本") -> int:
    result = deploy_xml(engine, name, xml, comment, user_id_of(engine, "孙浩"))
    assert result["status"] == "deployed", result
    return result["version_id"]


def timers(engine, item_id):
    with engine.db.reading() as session:
        return sorted(session.execute(select(Timer.task_id, Timer.bpmn_id, Timer.due_at)
                                      .where(Timer.instance_id.in_(_instances(session, item_id)))).all())


def _instances(session, item_id):
    from engine.store.models import ProcessInstance
    return select(ProcessInstance.id).where(ProcessInstance.item_id == item_id)


def audited(engine, action):
    with engine.db.reading() as session:
        return [d for d in session.execute(select(AuditEntry.details).where(AuditEntry.action == action)).scalars()]


def by_item(rows):
    return {r["item_id"]: r for r in rows}


def test_running_items_move_with_their_inbox_timers_and_light_and_carry_on(staffed_round):
    engine = staffed_round
    waiting = new_item(engine, IMMEDIATE, number="1")
    returned = new_item(engine, IMMEDIATE, number="2")
    for _ in range(3):  # a compacted history: returned three times
        do(engine, returned, "fix_task", "张伟", FIX, files=evidence())
        sign(engine, returned, "unit_head_review", "李娜", "reject", "请补充")
    do(engine, returned, "fix_task", "张伟", FIX, files=evidence())
    before = {i: (open_tasks(engine, i), timers(engine, i), item_detail(engine, i)["light"]) for i in (waiting, returned)}
    version = deploy(engine, "immediate.bpmn", workflow("immediate.bpmn").replace('name="审核"', 'name="单位审核"'))

    preview = by_item(migration_preview(engine, "immediate", version))
    assert preview[returned]["movable"] and preview[returned]["open_steps"] == ["审核"]
    assert preview[waiting] | {"reasons": []} == preview[waiting] and preview[waiting]["movable"]
    assert item_detail(engine, returned)["process"]["version"] != version  # a preview changes nothing

    moved = by_item(migrate_items(engine, "immediate", version))
    assert all(r["migrated"] for r in moved.values())
    for item_id in (waiting, returned):
        detail = item_detail(engine, item_id)
        tasks, due, light = before[item_id]
        assert detail["process"]["version"] == version
        assert [t["id"] for t in open_tasks(engine, item_id)] == [t["id"] for t in tasks]
        assert timers(engine, item_id) == due and detail["light"] == light
        assert detail["history"][-1]["kind"] == "migration"
    assert open_tasks(engine, returned)[0]["step"] == "单位审核"
    assert {d["item"] for d in audited(engine, "process.migrate")} == {waiting, returned}

    sign(engine, returned, "unit_head_review", "李娜")
    assert sign(engine, returned, "leader_signoff", "陈刚")["item_status"] == "已销号"


def test_a_migration_that_would_drop_the_current_step_is_refused_in_the_preview(staffed_round):
    engine = staffed_round
    at_fix = new_item(engine, IMMEDIATE, number="1")
    at_review = new_item(engine, IMMEDIATE, number="2")
    do(engine, at_review, "fix_task", "张伟", FIX, files=evidence())
    version = deploy(engine, "immediate.bpmn", re.sub(r"\bunit_head_review\b", "unit_review", workflow("immediate.bpmn")))

    preview = by_item(migration_preview(engine, "immediate", version))
    assert not preview[at_review]["movable"]
    assert preview[at_review]["reasons"] == ["当前环节「审核」（unit_head_review）在新版本中已删除"]
    assert preview[at_fix]["movable"]

    moved = by_item(migrate_items(engine, "immediate", version))
    assert moved[at_fix]["migrated"] and not moved[at_review]["migrated"]
    assert item_detail(engine, at_review)["process"]["version"] != version
    assert [t["bpmn_id"] for t in open_tasks(engine, at_review)] == ["unit_head_review"]
    do(engine, at_fix, "fix_task", "张伟", FIX, files=evidence())
    assert [t["bpmn_id"] for t in open_tasks(engine, at_fix)] == ["unit_review"]


def test_a_finished_step_the_new_version_drops_is_let_go(staffed_round):
    engine = staffed_round
    item = new_item(engine, TIME_LIMITED)
    do(engine, item, "plan_task", "张伟", PLAN)
    sign(engine, item, "plan_approval", "陈刚")  # 制定整改方案 is done (and kept to rewind to)
    version = deploy(engine, "time_limited.bpmn", re.sub(r"\bplan_task\b", "draft_plan", workflow("time_limited.bpmn")))
    (row,) = migrate_items(engine, "time_limited", version)
    assert row["migrated"], row
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["completion_task"]


def test_a_changed_current_step_or_a_running_multi_instance_stays_where_it_is(staffed_round):
    engine = staffed_round
    item = new_item(engine, IMMEDIATE)
    version = deploy(engine, "immediate.bpmn", workflow("immediate.bpmn").replace(
        'value="immediate_fix.json"', 'value="time_limited_completion.json"'))
    (row,) = migration_preview(engine, "immediate", version, [item])
    assert row["reasons"] == ["当前环节「落实整改」（fix_task）在新版本中已改变：扩展属性（表单、签字、期限等）"]

    rules = new_item(engine, LONG_TERM, number="2", unit="工程管理科", person="王强")
    do(engine, rules, "mechanism_plan", "王强", {"mechanism": "建立监管机制", "rules": [
        {"title": "招投标管理办法", "action": "修订"}, {"title": "评标专家管理规定", "action": "新建"}]})
    sign(engine, rules, "plan_approval", "陈刚")
    version = deploy(engine, "long_term.bpmn", workflow("long_term.bpmn").replace('name="阶段验收"', 'name="验收"'))
    (row,) = migration_preview(engine, "long_term", version)
    assert row["reasons"] == ["多实例环节「建章立制」正在进行，须等各项都完成后再迁移"]
    assert migration_preview(engine, "long_term", version, [item])[0]["reasons"] == [
        "该问题没有在流程「long_term」其他版本上运行的实例"]


def test_an_item_inside_a_sub_process_moves_with_its_monthly_report_timer(staffed_round):
    engine = staffed_round
    item = new_item(engine, TIME_LIMITED)
    do(engine, item, "plan_task", "张伟", PLAN)
    sign(engine, item, "plan_approval", "陈刚")
    due = timers(engine, item)
    assert {bpmn_id for _, bpmn_id, _ in due} == {"report_timer", "escalation_timer"}
    version = deploy(engine, "time_limited.bpmn", workflow("time_limited.bpmn")
                     .replace('name="提交完成材料"', 'name="提交整改完成材料"').replace('name="审核"', 'name="单位审核"'))
    (row,) = migrate_items(engine, "time_limited", version)
    assert row["migrated"], row
    assert timers(engine, item) == due
    assert [t["step"] for t in open_tasks(engine, item)] == ["提交整改完成材料"]
    do(engine, item, "completion_task", "张伟", {"measures": "办法已修订", "result": "已印发执行",
                                                "completed_on": "2026-04-20"}, files=evidence())
    assert [t["step"] for t in open_tasks(engine, item)] == ["单位审核"]


def test_a_migration_is_reverted_while_nothing_has_happened_since_and_not_after(staffed_round):
    engine = staffed_round
    item = new_item(engine, IMMEDIATE)
    first = item_detail(engine, item)["process"]["version"]
    version = deploy(engine, "immediate.bpmn", workflow("immediate.bpmn").replace('name="落实整改"', 'name="立即整改"'))
    migrate_items(engine, "immediate", version, [item])
    reverted = revert_migration(engine, item)
    assert reverted["version"] == first
    detail = item_detail(engine, item)
    assert detail["process"]["version"] == first and open_tasks(engine, item)[0]["step"] == "落实整改"
    assert [h["outcome"] for h in detail["history"] if h["kind"] == "migration"] == ["completed", "reverted"]
    assert audited(engine, "process.migrate.revert")[0]["item"] == item

    migrate_items(engine, "immediate", version, [item])
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    with pytest.raises(Conflict):
        revert_migration(engine, item)
    with engine.db.reading() as session:
        assert session.get(Item, item).status == "整改中"


def test_the_cli_previews_migrates_and_reverts(cli, tmp_path):
    cli("demo")
    path = tmp_path / "immediate.bpmn"
    path.write_text(re.sub(r"\bfix_task\b", "rectify_task", workflow("immediate.bpmn")), encoding="utf-8")
    version = cli.json("workflows", "deploy", path, "--comment", "换编号", "--as", "孙浩")[0]["version_id"]
    items = [i for i in cli.json("items", "list") if i["category"] == "立行立改"]
    preview = cli("workflows", "migrate", "immediate", "--to", version, "--dry-run").output
    assert preview.startswith("预览（未作改动）：可迁移 0 项，不可迁移 2 项") and "在新版本中已删除" in preview
    rows = cli.json("workflows", "migrate", "immediate", "--to", version, "--items", items[0]["id"], "--dry-run")
    assert [r["item_id"] for r in rows] == [items[0]["id"]] and rows[0]["movable"] is False
    out = cli("workflows", "migrate", "immediate", "--to", version).output
    assert out.startswith("已迁移 0 项，未迁移 2 项")
    assert cli("workflows", "migrate", "immediate", "--to", 999, ok=False).exit_code == 1
    assert "没有可撤销的流程迁移" in cli("workflows", "revert", items[0]["id"], ok=False).output
