"""退回到任意环节: 整改办 sends an item back to an earlier step with a reason; the 主要领导 approves it at a
sign-off gate; the signatures given from that step on stay on the chain, marked as superseded."""
import pytest
from helpers import FIX, PASSWORD, do, evidence, new_item, open_tasks, pdf_text, sign, without_triggers
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError

from engine.closure import signing
from engine.closure.records import document_file, item_closure_documents, signature_chain_json
from engine.closure.verification import MATCHES, verify_pdf
from engine.errors import Forbidden, InvalidInput
from engine.integrity import verify_history
from engine.ledger.detail import item_detail
from engine.ledger.rewind import request_rewind, rewind_targets
from engine.people.directory import user_id_of
from engine.store.models import IMMEDIATE, LONG_TERM, TIME_LIMITED, AuditEntry, Timer
from engine.work.completion import complete_task
from engine.work.superseded import SupersededSignature

PLAN = {"measures": "修订工程变更审批办法", "milestones": [{"title": "完成修订", "due": "2026-03-01"}],
        "planned_completion": "2026-04-30"}
DONE = {"measures": "办法已修订", "result": "已印发执行", "completed_on": "2026-04-20"}


def ask(engine, item, step, reason="材料与实际不符"):
    return request_rewind(engine, item, step, user_id_of(engine, "周婷"), reason)


def decide(engine, change, decision="approve"):
    return complete_task(engine, change["task_id"], {"decision": decision, "opinion": "同意退回" if decision == "approve"
                                                     else "不必退回"}, user_id_of(engine, "刘洋"), PASSWORD)


def actions(engine):
    with engine.db.reading() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_the_office_sends_an_item_back_and_the_signatures_after_that_step_are_superseded(staffed_round):
    engine = staffed_round
    signing.init_dev_certificate(engine, "市政工程管理处", actor="tests")
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜")
    assert [t["step_id"] for t in rewind_targets(engine, item)] == ["fix_task", "unit_head_review"]
    with pytest.raises(Forbidden):
        request_rewind(engine, item, "fix_task", user_id_of(engine, "张伟"), "想重做")
    with pytest.raises(InvalidInput) as refused:
        ask(engine, item, "leader_signoff", "")
    assert set(refused.value.field_errors) == {"to", "reason"}
    assert "fix_task（落实整改）、unit_head_review（审核）" in refused.value.field_errors["to"]

    change = ask(engine, item, "fix_task")
    assert change["kind"] == "退回环节" and change["approver_role"] == "主要领导"
    assert change["summary"] == "退回到「落实整改」重新办理（现在：签字销号）"
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["leader_signoff", "head_approval"]  # not before approval
    old_fix = next(h["task_id"] for h in item_detail(engine, item)["history"] if h["bpmn_id"] == "fix_task")
    decide(engine, change)

    detail = item_detail(engine, item)
    (fix,) = detail["open_tasks"]
    assert fix["bpmn_id"] == "fix_task" and fix["id"] != old_fix and fix["assignee"] == "张伟"
    assert [(h["step"], h["outcome"]) for h in detail["history"][-2:]] == [("签字销号", "cancelled"),
                                                                           ("退回到「落实整改」", "completed")]
    review, approval = detail["signatures"]
    assert review["superseded"] and review["superseded_by"]["reason"] == "材料与实际不符"
    assert not approval["superseded"] and detail["signature_chain_ok"]
    chain = signature_chain_json(engine, item)
    assert chain["chain_ok"] and chain["signatures"][0]["superseded"]["step"] == "落实整改"
    assert chain["signatures"][1]["superseded"] is None
    assert detail["changes"][-1]["status"] == "已批准"
    assert actions(engine)[-3:].count("item.rewind") == 1 and "item.rewind.request" in actions(engine)

    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜")
    assert sign(engine, item, "leader_signoff", "陈刚")["item_status"] == "已销号"
    assert [s["superseded"] for s in item_detail(engine, item)["signatures"]] == [True, False, False, False]
    with pytest.raises(DBAPIError), engine.db.transaction() as session:  # the marks are append-only too
        session.execute(delete(SupersededSignature))

    # The 销号单 shows the superseded signature as such, with the step and the reason, and verifies.
    (record,) = item_closure_documents(engine, item)
    pdf = document_file(engine, record["id"])[1]
    text = pdf_text(pdf, squeeze=True)
    assert "经批准退回到「落实整改」重新办理（理由：材料与实际不符），此签字不再作为现行审批" in text
    assert "其中1个已被退回重办取代" in text
    assert verify_pdf(engine, pdf).ok, verify_pdf(engine, pdf).summary

    # Sealed like signatures: past the triggers, a changed or deleted mark fails `rectify audit verify`.
    assert verify_history(engine).ok and verify_history(engine).checked["superseded_signatures"] == 1
    without_triggers(engine, "superseded_signatures", "UPDATE superseded_signatures SET reason = '无'")
    assert any("签字作废标记" in p and "已被改动" in p for p in verify_history(engine).problems)
    matches = next(c for c in verify_pdf(engine, pdf).checks if c.name == MATCHES)
    assert not matches.ok and "第 1 个签字（李娜）的退回重办取代标记与数据库不一致" in matches.message
    without_triggers(engine, "superseded_signatures", "DELETE FROM superseded_signatures")
    assert any("签字作废标记" in p and "已从数据库中删除" in p for p in verify_history(engine).problems)


def test_a_rejected_rewind_changes_nothing(staffed_round):
    engine = staffed_round
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    before = open_tasks(engine, item)
    decide(engine, ask(engine, item, "fix_task"), "reject")
    assert open_tasks(engine, item) == before
    assert not any(s["superseded"] for s in item_detail(engine, item)["signatures"])
    assert "item.rewind" not in actions(engine)


def test_a_compacted_path_goes_back_into_a_finished_sub_process_which_starts_again(staffed_round):
    engine = staffed_round
    item = new_item(engine, TIME_LIMITED)
    for _ in range(3):
        do(engine, item, "plan_task", "张伟", PLAN)
        sign(engine, item, "plan_approval", "陈刚", "reject", "措施不具体")
    do(engine, item, "plan_task", "张伟", PLAN)
    sign(engine, item, "plan_approval", "陈刚")
    do(engine, item, "completion_task", "张伟", DONE, files=evidence())
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["unit_head_review"]
    targets = [t["step_id"] for t in rewind_targets(engine, item)]
    assert targets == ["plan_task", "plan_approval", "progress_phase"]
    with pytest.raises(InvalidInput) as refused:  # inside the finished sub-process: gone with it
        ask(engine, item, "completion_task")
    assert "progress_phase（推进整改）" in refused.value.field_errors["to"]

    decide(engine, ask(engine, item, "progress_phase"))
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["completion_task"]
    with engine.db.reading() as session:
        assert set(session.execute(select(Timer.bpmn_id)).scalars()) == {"report_timer", "escalation_timer"}
    # Four 退回 of the plan and its approval stay as they were: given before the point.
    assert [s["superseded"] for s in item_detail(engine, item)["signatures"]][:4] == [False] * 4

    decide(engine, ask(engine, item, "plan_task", "方案须重订"))  # out of the running sub-process
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["plan_task"]
    with engine.db.reading() as session:  # its monthly report timer went with it
        assert set(session.execute(select(Timer.bpmn_id)).scalars()) == {"escalation_timer"}
    do(engine, item, "plan_task", "张伟", PLAN)
    sign(engine, item, "plan_approval", "陈刚")
    do(engine, item, "completion_task", "张伟", DONE, files=evidence())
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["unit_head_review"]


def test_a_multi_instance_step_starts_again_with_every_element(sqlite_engine):
    from helpers import new_round, people

    engine = sqlite_engine
    people(engine)
    new_round(engine)
    item = new_item(engine, LONG_TERM, unit="工程管理科", person="王强")
    do(engine, item, "mechanism_plan", "王强", {"mechanism": "建立监管机制", "rules": [
        {"title": "招投标管理办法", "action": "修订"}, {"title": "评标专家管理规定", "action": "新建"}]})
    sign(engine, item, "plan_approval", "陈刚")
    for task in open_tasks(engine, item):
        complete_task(engine, task["id"], {"title": task["step"].split("：")[-1], "doc_number": "市政〔2026〕1号",
                                           "issued_on": "2026-05-01"}, user_id_of(engine, "王强"), None,
                      evidence(f"{task['id'][:8]}.pdf", b"%PDF-1.4 " + task["id"].encode()))
    sign(engine, item, "phase_acceptance", "赵敏")
    assert "rule_enactment" in [t["step_id"] for t in rewind_targets(engine, item)]
    decide(engine, ask(engine, item, "rule_enactment"))
    assert sorted(t["step"] for t in open_tasks(engine, item)) == ["建章立制：招投标管理办法", "建章立制：评标专家管理规定"]
    assert [s["superseded"] for s in item_detail(engine, item)["signatures"]] == [False, True, False]


def test_the_cli_asks_for_a_rewind_that_the_head_signs(cli, tmp_path):
    cli("demo")
    receipt = tmp_path / "回单.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    item = next(i for i in cli.json("items", "list") if i["category"] == "立行立改" and i["person"] == "张伟")
    assert "（现在没有可退回的环节）" in cli("items", "rewind-targets", item["id"]).output
    refused = cli("items", "rewind", item["id"], "--to", "fix_task", "--as", "周婷", "--reason", "重做", ok=False)
    assert refused.exit_code == 1 and "没有可退回的环节" in refused.output
    task = next(t["id"] for t in cli.json("tasks", "list", "--user", "张伟") if t["item_id"] == item["id"])
    cli("tasks", "complete", task, "--as", "张伟", "--data",
        '{"measures": "追回津贴", "result": "已追回", "completed_on": "2026-11-20"}', "--file", receipt)
    assert "fix_task  落实整改" in cli("items", "rewind-targets", item["id"]).output
    out = cli("items", "rewind", item["id"], "--to", "fix_task", "--as", "周婷", "--reason", "佐证不足").output
    change_id, line = out.splitlines()[:2]
    assert line.startswith(f"已提交退回申请 {change_id}：退回到「落实整改」重新办理") and "待主要领导审批，审批任务" in line
    approval = next(t["id"] for t in cli.json("tasks", "list", "--user", "刘洋") if t["item_id"] == item["id"])
    from engine.demo import DEMO_PASSWORD
    cli("tasks", "complete", approval, "--as", "刘洋", "--data", '{"decision": "approve", "opinion": "同意"}',
        "--password", DEMO_PASSWORD)
    assert [t["bpmn_id"] for t in cli.json("items", "show", item["id"])["open_tasks"]] == ["fix_task"]
    assert cli.json("audit", "verify")["ok"] is True
