"""Process designers deploy versions: only 流程设计 may; every deploy says what changed; a new or
changed script waits for a second designer or admin; invalid BPMN never deploys. The versions list
says who deployed what, when, why, and how many items run on each."""
from pathlib import Path

import pytest
from helpers import new_item
from sqlalchemy import select

from engine.config import REPO_ROOT
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.people.directory import add_user, user_id_of
from engine.process.designs import approve_deploy, deploy_preview, deploy_xml
from engine.process.versions import list_processes, version_file
from engine.store.models import ADMIN, DESIGNER, IMMEDIATE, AuditEntry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def workflow(name: str) -> str:
    return (REPO_ROOT / "workflows" / name).read_text(encoding="utf-8")


def renamed_immediate() -> str:
    return workflow("immediate.bpmn").replace('name="落实整改"', 'name="立即整改"')


def audit_actions(engine) -> list[str]:
    with engine.db.reading() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def process(engine, process_id):
    return next(p for p in list_processes(engine) if p["process_id"] == process_id)


def test_a_designer_deploys_a_version_with_a_comment_and_the_list_says_who_when_why(staffed_round):
    engine = staffed_round
    new_item(engine, IMMEDIATE)
    designer = user_id_of(engine, "孙浩")
    with pytest.raises(InvalidInput) as refused:
        deploy_xml(engine, "immediate.bpmn", renamed_immediate(), "  ", designer)
    assert "comment" in refused.value.field_errors
    preview = deploy_preview(engine, "immediate.bpmn", renamed_immediate())
    assert preview["valid"] and not preview["needs_approval"] and preview["items_running"] == 1
    assert preview["steps"]["changed"] == ["落实整改（fix_task）"]
    result = deploy_xml(engine, "immediate.bpmn", renamed_immediate(), "落实整改改称立即整改", designer)
    assert result["status"] == "deployed" and result["created"]

    listed = process(engine, "immediate")
    assert listed["name"] == "立行立改" and listed["current_version"] == result["version_id"]
    new, old = listed["versions"][:2]
    assert (new["comment"], new["deployed_by"], new["is_current"], new["items_running"]) == ("落实整改改称立即整改", "孙浩",
                                                                                             True, 0)
    assert (old["is_current"], old["items_running"]) == (False, 1)
    assert len(new["hash"]) == 64 and new["deployed_at"]
    assert version_file(engine, old["id"])["xml"] == workflow("immediate.bpmn")
    assert version_file(engine, new["id"])["download_name"] == f"immediate-v{new['id']}.bpmn"
    again = deploy_xml(engine, "immediate.bpmn", renamed_immediate(), "再部署一次", designer)
    assert again["status"] == "unchanged"
    assert audit_actions(engine).count("process.deploy") == 6 + 1  # the defaults, then this one


def test_only_a_process_designer_may_deploy(staffed_round):
    engine = staffed_round
    with pytest.raises(Forbidden) as refused:
        deploy_xml(engine, "immediate.bpmn", renamed_immediate(), "试试", user_id_of(engine, "周婷"))
    assert "流程设计" in refused.value.message


def test_invalid_bpmn_is_refused_element_by_element_and_nothing_is_deployed(cast):
    engine = cast
    before = list_processes(engine)
    camunda = (FIXTURES / "camunda_modeler.bpmn").read_text(encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        deploy_xml(engine, "camunda_modeler.bpmn", camunda, "从 Camunda 导入", user_id_of(engine, "孙浩"))
    assert set(refused.value.field_errors) == {"Activity_fix", "Activity_review"}
    assert "camunda:assignee" in refused.value.field_errors["Activity_fix"]
    assert deploy_preview(engine, "camunda_modeler.bpmn", camunda)["valid"] is False
    assert list_processes(engine) == before


def test_a_bpmn_io_file_deploys_as_a_new_process(cast):
    engine = cast
    xml = (FIXTURES / "bpmn_io_review.bpmn").read_text(encoding="utf-8")
    result = deploy_xml(engine, "bpmn_io_review.bpmn", xml, "情况说明流程", user_id_of(engine, "孙浩"))
    assert result["status"] == "deployed" and result["process_id"] == "review_demo"
    assert process(engine, "review_demo")["name"] == "情况说明"


def test_a_changed_script_waits_for_a_second_designer_or_admin(cast):
    engine = cast
    add_user(engine, "钱进", "办公室", [ADMIN], "test-pass-2026")
    add_user(engine, "郑洁", "办公室", [DESIGNER], "test-pass-2026")
    designer = user_id_of(engine, "郑洁")
    changed = workflow("long_term.bpmn").replace("enacted_rules = []", "enacted_rules = list()")
    preview = deploy_preview(engine, "long_term.bpmn", changed)
    assert preview["needs_approval"] and [s["id"] for s in preview["scripts"]] == ["prepare_enactment"]
    pending = deploy_xml(engine, "long_term.bpmn", changed, "准备建章立制的脚本改写", designer)
    assert pending["status"] == "pending" and pending["version_id"] is None
    assert pending["scripts"][0]["change"] == "修改"
    assert process(engine, "long_term")["pending"][0]["id"] == pending["request_id"]
    with pytest.raises(Conflict):
        deploy_xml(engine, "long_term.bpmn", changed + " ", "再提一次", designer)
    with pytest.raises(Forbidden):  # not one's own
        approve_deploy(engine, pending["request_id"], designer)
    with pytest.raises(Forbidden):  # not an officer
        approve_deploy(engine, pending["request_id"], user_id_of(engine, "张伟"))
    approved = approve_deploy(engine, pending["request_id"], user_id_of(engine, "钱进"), opinion="已核对脚本")
    assert approved["status"] == "已批准"
    listed = process(engine, "long_term")
    assert listed["current_version"] == approved["version_id"] and listed["pending"] == []
    assert listed["versions"][0]["deployed_by"] == "郑洁"
    actions = audit_actions(engine)
    assert actions.index("process.deploy.request") < actions.index("process.deploy.approve")


def test_a_refused_script_deploy_changes_nothing(cast):
    engine = cast
    people_ = user_id_of(engine, "孙浩")
    add_user(engine, "郑洁", "办公室", [DESIGNER], "test-pass-2026")
    added = workflow("lookback.bpmn").replace('<bpmn:script>', '<bpmn:script>import os\n', 1)
    pending = deploy_xml(engine, "lookback.bpmn", added, "加一行", user_id_of(engine, "郑洁"))
    current = process(engine, "lookback")["current_version"]
    refused = approve_deploy(engine, pending["request_id"], people_, approve=False, opinion="不需要 import")
    assert refused["status"] == "已拒绝" and process(engine, "lookback")["current_version"] == current
    assert "process.deploy.reject" in audit_actions(engine)


def test_the_cli_lists_deploys_approves_and_exports(cli, tmp_path):
    cli("demo")
    cli("users", "add", "郑洁", "--unit", "办公室", "--role", "流程设计", "--password", "test-pass-2026")
    path = tmp_path / "immediate.bpmn"
    path.write_text(renamed_immediate(), encoding="utf-8")
    assert cli("workflows", "deploy", path, ok=False).exit_code == 2  # --comment is required
    refused = cli("workflows", "deploy", path, "--comment", "改名", "--as", "张伟", ok=False)
    assert refused.exit_code == 1 and "流程设计" in refused.output
    out = cli("workflows", "deploy", path, "--comment", "改名", "--as", "孙浩").output
    assert out.startswith("immediate：版本 ") and "（新）" in out
    listed = cli.json("workflows", "list")
    immediate = next(p for p in listed if p["process_id"] == "immediate")
    assert immediate["versions"][0]["comment"] == "改名" and immediate["versions"][1]["items_running"] == 2
    text = cli("workflows", "list").output
    assert "immediate  立行立改（当前版本" in text and "说明：改名" in text and "运行中 2 项" in text

    script = tmp_path / "long_term.bpmn"
    script.write_text(workflow("long_term.bpmn").replace("enacted_rules = []", "enacted_rules = list()"), encoding="utf-8")
    pending = cli.json("workflows", "deploy", script, "--comment", "脚本改写", "--as", "郑洁")[0]
    assert pending["status"] == "pending"
    assert "待批准：部署申请" in cli("workflows", "list").output
    assert "已批准" in cli("workflows", "approve", pending["request_id"], "--as", "孙浩").output

    bad = tmp_path / "camunda.bpmn"
    bad.write_text((FIXTURES / "camunda_modeler.bpmn").read_text(encoding="utf-8"), encoding="utf-8")
    refused = cli("workflows", "deploy", path, bad, "--comment", "两个文件", "--as", "孙浩", ok=False)
    assert refused.exit_code == 1 and "未部署任何文件" in refused.output and "Activity_fix" in refused.output

    out_file = tmp_path / "exported.bpmn"
    cli("workflows", "export", immediate["versions"][1]["id"], "--out", out_file)
    assert out_file.read_text(encoding="utf-8") == workflow("immediate.bpmn")
