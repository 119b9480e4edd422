"""限期整改 and 长效治理 end to end, timers driven by `tick` on a moved clock."""
from datetime import datetime, timedelta, timezone

from helpers import do, evidence, new_item, open_tasks, sign

from engine.ledger.detail import item_detail
from engine.process.timers import tick
from engine.store.models import LONG_TERM, TIME_LIMITED

PLAN = {"measures": "修订工程变更审批办法", "milestones": [{"title": "完成修订", "due": "2026-03-01"}],
        "planned_completion": "2026-04-30"}
DONE = {"measures": "办法已修订", "result": "已印发执行", "completed_on": "2026-04-20"}


def steps(engine, item):
    return sorted(t["bpmn_id"] for t in open_tasks(engine, item))


def later(days: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def test_time_limited_with_reports_return_and_third_party_evaluation(staffed_round):
    engine = staffed_round
    item = new_item(engine, TIME_LIMITED, third_party=True, deadline=later(200).date())
    assert steps(engine, item) == ["plan_task"]
    do(engine, item, "plan_task", "张伟", PLAN)
    sign(engine, item, "plan_approval", "陈刚", "reject", "措施不具体")
    do(engine, item, "plan_task", "张伟", PLAN | {"measures": "逐条修订并培训"})
    sign(engine, item, "plan_approval", "陈刚")
    assert steps(engine, item) == ["completion_task"]

    # A month on, the monthly progress report is due beside the completion task.
    report = tick(engine, later(32))
    assert [t["step"] for t in report.new_tasks] == ["月度进展报告"]
    assert steps(engine, item) == ["completion_task", "progress_report"]
    with engine.clock.pinned(later(33)):  # the officer reports the next day
        do(engine, item, "progress_report", "张伟", {"progress": "已完成初稿", "percent": 40})
    assert tick(engine, later(50)).new_tasks == []  # the next report is due a month after this one
    tick(engine, later(70))
    assert steps(engine, item) == ["completion_task", "progress_report"]

    # Submitting the results ends the reporting loop: the open report is withdrawn.
    do(engine, item, "completion_task", "张伟", DONE, files=evidence())
    assert steps(engine, item) == ["unit_head_review"]
    sign(engine, item, "unit_head_review", "李娜")
    assert steps(engine, item) == ["third_party_evaluation"]
    do(engine, item, "third_party_evaluation", "周婷",
       {"evaluator": "某会计师事务所", "conclusion": "部分措施未落实", "evaluation_passed": False})
    assert steps(engine, item) == ["completion_task"]  # failed evaluation: back to work
    do(engine, item, "completion_task", "张伟", DONE, files=evidence())
    sign(engine, item, "unit_head_review", "李娜")
    do(engine, item, "third_party_evaluation", "周婷",
       {"evaluator": "某会计师事务所", "conclusion": "整改到位", "evaluation_passed": True})
    sign(engine, item, "leader_signoff", "陈刚")
    assert steps(engine, item) == ["head_signoff"]
    sign(engine, item, "head_signoff", "刘洋", "approve", "同意销号")

    detail = item_detail(engine, item)
    assert detail["status"] == "已销号" and detail["process"]["completed"]
    assert [s["role"] for s in detail["signatures"]][-3:] == ["责任单位负责人", "分管领导", "主要领导"]
    cancelled = [h["bpmn_id"] for h in detail["history"] if h["outcome"] == "cancelled"]
    assert "progress_report" in cancelled


LT_PLAN = {"mechanism": "建立招投标全过程监管机制",
           "rules": [{"title": "招投标管理办法", "action": "修订"}, {"title": "评标专家管理规定", "action": "新建"}]}


def enact(engine, item):
    for task in [t for t in open_tasks(engine, item) if t["bpmn_id"] == "rule_enactment"]:
        from engine.people.directory import user_id_of
        from engine.work.completion import complete_task
        complete_task(engine, task["id"], {"title": task["step"].split("：")[-1], "doc_number": "市政〔2026〕1号",
                                           "issued_on": "2026-05-01"}, user_id_of(engine, "王强"), None,
                      evidence(f"{task['id'][:8]}.pdf", b"%PDF-1.4 " + task["id"].encode()))


def test_long_term_closes_then_a_rebound_reopens_it(staffed_round):
    engine = staffed_round
    item = new_item(engine, LONG_TERM, unit="工程管理科", person="王强", deadline=later(300).date())
    do(engine, item, "mechanism_plan", "王强", LT_PLAN)
    sign(engine, item, "plan_approval", "陈刚")
    tasks = open_tasks(engine, item)
    assert sorted(t["step"] for t in tasks) == ["建章立制：招投标管理办法", "建章立制：评标专家管理规定"]
    enact(engine, item)
    sign(engine, item, "phase_acceptance", "赵敏", "reject", "评标专家规定缺少回避条款")
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["rule_enactment"] * 2
    enact(engine, item)
    sign(engine, item, "phase_acceptance", "赵敏")
    sign(engine, item, "leader_signoff", "陈刚")
    sign(engine, item, "head_signoff", "刘洋")
    detail = item_detail(engine, item)
    assert detail["status"] == "已销号" and not detail["process"]["completed"]  # under observation
    assert steps(engine, item) == []

    # Quarterly look-backs (回头看): the first finds no rebound.
    assert tick(engine, later(60)).new_tasks == []
    assert [t["step"] for t in tick(engine, later(95)).new_tasks] == ["回头看核查"]
    do(engine, item, "lookback_check", "周婷", {"rebound": False, "findings": "制度执行良好"})
    # The second finds the problem back: the item reopens, straight to 建章立制, with a new deadline.
    tick(engine, later(190))
    new_deadline = later(400).date().isoformat()
    do(engine, item, "lookback_check", "周婷", {"rebound": True, "findings": "出现规避招标情况", "new_deadline": new_deadline})
    detail = item_detail(engine, item)
    assert detail["status"] == "整改中" and detail["deadline"] == new_deadline and detail["closed_at"] is None
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["rule_enactment"] * 2

    enact(engine, item)
    sign(engine, item, "phase_acceptance", "赵敏")
    sign(engine, item, "leader_signoff", "陈刚")
    sign(engine, item, "head_signoff", "刘洋")
    assert item_detail(engine, item)["status"] == "已销号"
    for days in (290, 385):  # two clean look-backs end the observation
        tick(engine, later(days))
        do(engine, item, "lookback_check", "周婷", {"rebound": False, "findings": "未反弹"})
    detail = item_detail(engine, item)
    assert detail["process"]["completed"] and detail["status"] == "已销号"
    assert detail["signature_chain_ok"] and len(detail["signatures"]) == 8
