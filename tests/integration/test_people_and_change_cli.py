"""People administration on both databases (disable, move, revoke, handover) and the CLI contract of
变更申请, 转办 and people administration that other tools drive the product through."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from helpers import DEADLINE, FIX, PASSWORD, do, evidence, new_item, open_tasks, sign

from engine.demo import DEMO_PASSWORD
from engine.errors import Forbidden, InvalidInput
from engine.ledger.detail import item_detail
from engine.people.admin import handover, move_user, revoke_role, set_active
from engine.people.directory import add_user, user_id_of
from engine.people.logins import login
from engine.store.models import IMMEDIATE, LEADER, TIME_LIMITED


def test_a_disabled_person_can_neither_log_in_nor_sign(engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    assert login(engine, "李娜", PASSWORD)["name"] == "李娜"
    assert set_active(engine, "李娜", False, actor="孙浩") == set_active(engine, "李娜", False, actor="孙浩") | {"active": False}
    with pytest.raises(Forbidden):
        login(engine, "李娜", PASSWORD)
    with pytest.raises(Forbidden) as refused:  # her review waits; she may not sign it now
        sign(engine, item, "unit_head_review", "李娜")
    assert "停用" in refused.value.message
    set_active(engine, "李娜", True, actor="孙浩")
    assert login(engine, "李娜", PASSWORD)["name"] == "李娜"
    sign(engine, item, "unit_head_review", "李娜")


def test_a_handover_moves_every_open_task_and_item_to_a_successor_with_the_role(engine, staffed_round):
    items = [new_item(engine, IMMEDIATE, number=str(n)) for n in (1, 2)] + [new_item(engine, TIME_LIMITED, number="3")]
    add_user(engine, "黄磊", "处领导班子", [LEADER], PASSWORD)
    add_user(engine, "钱多", "财务科", [], PASSWORD)
    admin = user_id_of(engine, "孙浩")
    with pytest.raises(InvalidInput) as refused:  # the successor lacks the leader's role
        handover(engine, "陈刚", "钱多", admin, "换届", PASSWORD)
    assert "分管领导" in refused.value.field_errors["to"]
    with pytest.raises(InvalidInput):
        handover(engine, "陈刚", "黄磊", admin, "换届", "wrong")
    with pytest.raises(Forbidden):
        handover(engine, "陈刚", "黄磊", user_id_of(engine, "周婷"), "换届", PASSWORD)

    moved = handover(engine, "张伟", "钱多", admin, "调岗", PASSWORD)
    assert (moved["tasks"], moved["items_as_person"]) == (3, 3)
    for item in items:
        assert item_detail(engine, item)["person"] == "钱多"
        assert [t["assignee"] for t in open_tasks(engine, item)] == ["钱多"]
        [entry] = [h for h in item_detail(engine, item)["history"] if h["kind"] == "handover"]
        assert entry["data"] == {"from": "张伟", "to": "钱多", "reason": "调岗"} and entry["by"] == "孙浩"
    assert handover(engine, "陈刚", "黄磊", admin, "换届", PASSWORD)["items_as_leader"] == 3
    assert {item_detail(engine, i)["leader"] for i in items} == {"黄磊"}


def test_moving_and_revoking_name_what_is_wrong(cast):
    engine = cast
    with pytest.raises(InvalidInput) as refused:
        move_user(engine, "张伟", "不存在的科", actor="孙浩")
    assert refused.value.field_errors == {"unit": "找不到单位「不存在的科」"}
    assert move_user(engine, "张伟", "工程管理科", actor="孙浩")["unit"] == "工程管理科"
    with pytest.raises(InvalidInput) as refused:
        revoke_role(engine, "张伟", "主要领导", actor="孙浩")
    assert "没有「主要领导」角色" in refused.value.message
    assert revoke_role(engine, "孙浩", "流程设计", actor="孙浩")["roles"] == ["管理员"]


def test_the_cli_contract_of_changes_reassignment_and_people(cli):
    cli("demo")
    item = next(i for i in cli.json("items", "list") if i["category"] == "立行立改" and i["person"] == "张伟")
    later = (DEADLINE + timedelta(days=90)).isoformat()
    out = cli("items", "change", item["id"], "--as", "张伟", "--reason", "资金未到位", "--deadline", later).output
    change_id = int(out.splitlines()[0])
    [change] = cli.json("items", "changes", item["id"])
    assert (change["id"], change["kind"], change["status"], change["after"]) == (change_id, "延期", "待审批", {"deadline": later})
    refused = cli("items", "change", item["id"], "--as", "张伟", "--reason", "x", "--deadline", later, ok=False)
    assert refused.exit_code == 1 and "待审批" in refused.output
    cli("tasks", "complete", change["task_id"], "--as", "陈刚", "--password", DEMO_PASSWORD,
        "--data", json.dumps({"decision": "approve", "opinion": "同意延期"}, ensure_ascii=False))
    shown = cli.json("items", "show", item["id"])
    assert shown["deadline"] == later and shown["changes"][0]["status"] == "已批准"
    assert all(t["assignee"] for t in shown["open_tasks"])

    task = shown["open_tasks"][0]["id"]
    bad = cli("tasks", "reassign", task, "--to", "王强", "--as", "李娜", "--reason", "出差", ok=False)
    assert bad.exit_code == 1 and "不在责任单位" in bad.output
    cli("users", "add", "钱多", "--unit", "财务科", "--role", "责任人")
    moved = cli.json("tasks", "reassign", task, "--to", "钱多", "--as", "李娜", "--reason", "张伟出差")
    assert (moved["from"], moved["to"]) == ("张伟", "钱多")

    assert cli.json("users", "disable", "钱多")["active"] is False
    assert cli.json("users", "enable", "钱多")["active"] is True
    assert cli.json("users", "move", "钱多", "--unit", "工程管理科")["unit"] == "工程管理科"
    assert cli.json("users", "revoke", "钱多", "--role", "责任人")["roles"] == []
    result = cli.json("users", "handover", "王强", "--to", "赵敏", "--as", "孙浩", "--reason", "调岗",
                      "--password", DEMO_PASSWORD)
    assert result["from"] == "王强" and result["tasks"] >= 1
    assert "缺少角色" in cli("users", "handover", "陈刚", "--to", "张伟", "--as", "孙浩", "--reason", "换届",
                          ok=False).output
    assert cli.json("audit", "verify")["ok"] is True
