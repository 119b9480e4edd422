"""Deployed versions: running items keep theirs; a fresh engine (new process, empty spec cache)
restores an instance mid-path and carries on."""
from helpers import FIX, do, evidence, new_item, new_round, open_tasks, people, sign

from engine import Engine
from engine.config import REPO_ROOT
from engine.ledger.detail import item_detail
from engine.people.directory import user_id_of
from engine.process.deploy import deploy_file
from engine.store.models import IMMEDIATE, LONG_TERM, TIME_LIMITED
from engine.work.completion import complete_task


def test_new_version_for_new_items_running_items_keep_theirs(engine, tmp_path):
    people(engine)
    new_round(engine)
    old_item = new_item(engine, IMMEDIATE, number="1")
    changed = (REPO_ROOT / "workflows" / "immediate.bpmn").read_text(encoding="utf-8").replace(
        'name="落实整改"', 'name="立即整改"')
    path = tmp_path / "immediate.bpmn"
    path.write_text(changed, encoding="utf-8")
    deployed = deploy_file(engine, path, actor="designer")
    assert deployed["created"] and deployed["process_id"] == "immediate"
    assert deploy_file(engine, path)["created"] is False  # same content, same version

    new = new_item(engine, IMMEDIATE, number="2")
    assert open_tasks(engine, new)[0]["step"] == "立即整改"
    assert open_tasks(engine, old_item)[0]["step"] == "落实整改"
    assert item_detail(engine, new)["process"]["version"] == deployed["id"] != item_detail(engine, old_item)["process"]["version"]
    do(engine, old_item, "fix_task", "张伟", FIX, files=evidence())
    assert [t["bpmn_id"] for t in open_tasks(engine, old_item)] == ["unit_head_review"]


def test_a_fresh_engine_restores_an_instance_mid_path(engine):
    people(engine)
    new_round(engine)
    item = new_item(engine, TIME_LIMITED)
    do(engine, item, "plan_task", "张伟", {"measures": "修订办法", "planned_completion": "2026-12-01",
                                          "milestones": [{"title": "修订", "due": "2026-11-30"}]})
    restarted = Engine(engine.settings)  # as after a server restart: nothing cached
    try:
        sign(restarted, item, "plan_approval", "陈刚")
        assert [t["bpmn_id"] for t in open_tasks(restarted, item)] == ["completion_task"]
    finally:
        restarted.close()


def restarted(engine) -> Engine:
    """A new engine on the same database, as after a server restart: no spec or state cached."""
    return Engine(engine.settings)


def test_a_fresh_engine_restores_an_immediate_item_at_its_sign_off(engine):
    people(engine)
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    fresh = restarted(engine)
    try:
        sign(fresh, item, "unit_head_review", "李娜")
        assert [t["bpmn_id"] for t in open_tasks(fresh, item)] == ["leader_signoff"]
        assert sign(fresh, item, "leader_signoff", "陈刚")["item_status"] == "已销号"
    finally:
        fresh.close()


def test_a_fresh_engine_restores_a_long_term_item_halfway_through_its_rules(engine):
    people(engine)
    new_round(engine)
    item = new_item(engine, LONG_TERM, unit="工程管理科", person="王强")
    do(engine, item, "mechanism_plan", "王强", {"mechanism": "建立招投标全过程监管机制", "rules": [
        {"title": "招投标管理办法", "action": "修订"}, {"title": "评标专家管理规定", "action": "新建"}]})
    sign(engine, item, "plan_approval", "陈刚")
    rules = {"title": "招投标管理办法", "doc_number": "市政〔2026〕1号", "issued_on": "2026-05-01"}
    first, second = open_tasks(engine, item)  # 建章立制, one task per rule (multi-instance)
    done = do_task(engine, first, "王强", rules)
    fresh = restarted(engine)
    try:
        assert [t["id"] for t in open_tasks(fresh, item)] == [second["id"]]
        do_task(fresh, second, "王强", rules | {"title": "评标专家管理规定"})
        assert [t["bpmn_id"] for t in open_tasks(fresh, item)] == ["phase_acceptance"]
        assert done["item_id"] == item
    finally:
        fresh.close()


def do_task(engine, task: dict, who: str, data: dict) -> dict:
    return complete_task(engine, task["id"], data, user_id_of(engine, who), None,
                         evidence(f"{task['id'][:8]}.pdf", b"%PDF-1.4 " + task["id"].encode()))
