"""三张清单: a round's problems, tasks and responsibilities as one .xlsx of three sheets, cells written as
in the ledger export (text only, so a title like `=SUM(A1)` stays text).

  问题清单  the round's problems in ledger order: the ledger's columns, 状态, today's 灯色, 当前环节, 销号日期.
  任务清单  one row per task a problem is rectified by, from the officers' recorded steps, by field:
            the approved plan's 整改措施 (`measures`, by `planned_completion`) and its 阶段节点 (`milestones`);
            a long-term plan's 长效机制 (`mechanism`, by the deadline), its 阶段节点 (`phases`) and each
            rule as 建章立制 (by `issued_on` once enacted, else the deadline); with no plan in the path,
            the 落实整改 measures (`measures` + `result`, by `completed_on`). A problem with none of these
            gets one row saying so (no plan yet, or not yet approved), by its deadline. 完成情况: 已完成
            once the problem is closed or a result is recorded (a rule: once enacted), else 进行中.
  责任清单  one row per person and role (分管领导, then 责任人; by unit, then name): their problems, how
            many are closed, open and overdue (open, past the deadline), and their 序号.

A plan counts once approved: the first later sign-off that reviews its step (`reviews`) approved it, or
no gate of its process reviews that step. Steps are recognised by their fields, not their ids, so 问责处理
(纪检监察; its form has `measures` but none of the plan fields) is never a task."""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from openpyxl import Workbook
from sqlalchemy import select

from engine.clock import CLOCK
from engine.ledger.items import ITEM_LOAD_OPTIONS
from engine.ledger.round_facts import current_step, earliest_dues, open_steps, running_items
from engine.ledger.rounds import find_round
from engine.ledger.xlsx.export import WIDTHS, write_sheet
from engine.process.bpmn import reviewed_ids, step_id
from engine.process.deploy import all_task_specs
from engine.process.instances import version_spec
from engine.store.models import (
    LEADER,
    OFFICER,
    STATUS_CLOSED,
    STATUS_WITHDRAWN,
    Item,
    ProcessInstance,
    TaskRecord,
    User,
)

if TYPE_CHECKING:
    from engine.core import Engine

PROBLEMS, TASKS, DUTIES = "问题清单", "任务清单", "责任清单"
PROBLEM_HEADERS = ["序号", "方面", "问题", "问题描述", "整改类别", "责任单位", "责任人", "分管领导", "整改时限", "完成标准",
                   "状态", "灯色", "当前环节", "销号日期"]
TASK_HEADERS = ["问题序号", "问题", "责任单位", "责任人", "任务类型", "内容", "完成时限或日期", "完成情况", "来源环节"]
DUTY_HEADERS = ["姓名", "单位", "责任", "问题数", "已销号", "整改中", "超期", "问题序号"]
SHEET_WIDTHS = {
    PROBLEMS: WIDTHS,
    TASKS: {"问题序号": 8, "问题": 32, "内容": 48, "完成时限或日期": 14, "来源环节": 24},
    DUTIES: {"单位": 16, "问题序号": 30},
}
MEASURES, MILESTONE, MECHANISM, RULE = "整改措施", "阶段节点", "长效机制", "建章立制"
DONE, DOING = "已完成", "进行中"
NO_PLAN = "（尚未制定整改方案）"
PLAN_PENDING = "（整改方案尚未审批通过）"


@dataclass(frozen=True)
class ThreeLists:
    """The rows of the three sheets (headers apart), as written."""
    problems: list[list]
    tasks: list[list]
    duties: list[list]

    @property
    def counts(self) -> dict[str, int]:
        return {PROBLEMS: len(self.problems), TASKS: len(self.tasks), DUTIES: len(self.duties)}

    def xlsx(self) -> bytes:
        workbook = Workbook(write_only=True)
        for title, headers, rows in ((PROBLEMS, PROBLEM_HEADERS, self.problems), (TASKS, TASK_HEADERS, self.tasks),
                                     (DUTIES, DUTY_HEADERS, self.duties)):
            write_sheet(workbook, title, headers, rows, SHEET_WIDTHS[title])
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


@dataclass(frozen=True)
class _Step:
    name: str
    bpmn_id: str
    version_id: int
    signoff: bool
    data: dict


def _steps(session, round_id: int) -> dict[int, list[_Step]]:
    """Item id -> its completed user and sign-off steps with data, in the order they were done."""
    rows = session.execute(
        select(TaskRecord.item_id, TaskRecord.name, TaskRecord.bpmn_id, ProcessInstance.version_id, TaskRecord.kind,
               TaskRecord.data)
        .join(ProcessInstance, ProcessInstance.id == TaskRecord.instance_id)
        .where(TaskRecord.item_id.in_(select(Item.id).where(Item.round_id == round_id)),
               TaskRecord.kind.in_(("user", "signoff")), TaskRecord.outcome == "completed",
               TaskRecord.data.is_not(None))
        .order_by(TaskRecord.id))
    steps: dict[int, list[_Step]] = {}
    for item_id, name, bpmn_id, version_id, kind, data in rows:
        if isinstance(data, dict):
            steps.setdefault(item_id, []).append(_Step(name, bpmn_id, version_id, kind == "signoff", data))
    return steps


def _gates(engine: Engine, session, steps: dict[int, list[_Step]]) -> dict[tuple[int, str], set[str]]:
    """(version, sign-off step id) -> the ids of the steps that gate reviews."""
    gates = {}
    for version_id in {s.version_id for item_steps in steps.values() for s in item_steps}:
        spec = version_spec(engine, session, version_id)
        for task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
            if reviewed := reviewed_ids(task_spec):
                gates[(version_id, step_id(task_spec))] = set(reviewed)
    return gates


def _approved(n: int, steps: list[_Step], gates) -> bool:
    step = steps[n]
    verdict = next((s.data.get("decision") for s in steps[n + 1:]
                    if s.signoff and step.bpmn_id in gates.get((s.version_id, s.bpmn_id), ())), None)
    if verdict is not None:
        return verdict == "approve"
    reviewed = any(v == step.version_id and step.bpmn_id in ids for (v, _), ids in gates.items())
    return not reviewed  # under review (or returned with nothing later) vs. never reviewed at all


def _day(value, default) -> str:
    return str(value)[:10] if value else default.isoformat()


def _rules(item: Item, mechanism: _Step | None, work: list[_Step], state: str) -> list[tuple]:
    """建章立制 rows: each rule of the plan, by the latest step enacting it (named 建章立制：<rule>, or of the
    same title) if any, then any rule enacted outside the plan."""
    planned = [r for r in (mechanism.data.get("rules") or []) if r.get("title")] if mechanism else []
    enacted: dict[str, _Step] = {}
    for step in (s for s in work if s.data.get("doc_number")):
        title = step.data.get("title") or ""
        enacted[next((r["title"] for r in planned if step.name.endswith("：" + r["title"]) or title == r["title"]),
                     title)] = step
    rows = []
    for rule in planned:
        step = enacted.pop(rule["title"], None)
        rows.append(_enacted(item, step, rule["title"]) if step else (
            RULE, f"{rule.get('action') or ''}《{rule['title']}》", _day(None, item.deadline), state, mechanism.name))
    return rows + [_enacted(item, step, title) for title, step in enacted.items()]


def _enacted(item: Item, step: _Step, title: str) -> tuple:
    return (RULE, f"《{step.data.get('title') or title}》（{step.data['doc_number']}）",
            _day(step.data.get("issued_on"), item.deadline), DONE, step.name)


def _is_plan(data: dict) -> bool:
    """整改方案 (measures with a planned date or milestones) or 长效机制方案."""
    return "mechanism" in data or ("measures" in data and ("planned_completion" in data or "milestones" in data))


def _tasks(item: Item, steps: list[_Step], gates) -> list[tuple]:
    """(任务类型, 内容, 日期, 完成情况, 来源环节) of one item."""
    work = [s for s in steps if not s.signoff]
    done = item.status == STATUS_CLOSED or any(str(s.data.get("result") or "").strip() for s in work)
    state = DONE if done else DOING
    plans = [(n, s) for n, s in enumerate(steps) if not s.signoff and _is_plan(s.data)]
    approved = [s for n, s in plans if _approved(n, steps, gates)]
    plan = next((s for s in reversed(approved) if "measures" in s.data), None)
    mechanism = next((s for s in reversed(approved) if "mechanism" in s.data), None)
    rows = []
    if plan:
        rows.append((MEASURES, plan.data["measures"], _day(plan.data.get("planned_completion"), item.deadline), state,
                     plan.name))
    if mechanism:
        rows.append((MECHANISM, mechanism.data["mechanism"], _day(None, item.deadline), state, mechanism.name))
    rows += _rules(item, mechanism, work, state)
    for source, key in ((plan, "milestones"), (mechanism, "phases")):
        rows += [(MILESTONE, m.get("title") or "", _day(m.get("due"), item.deadline), state, source.name)
                 for m in ((source.data.get(key) or []) if source else [])]
    if not plans:  # a path without a plan (立行立改): what was done is the task
        fix = next((s for s in reversed(work) if s.data.get("measures") and "result" in s.data), None)
        if fix:
            rows.append((MEASURES, fix.data["measures"], _day(fix.data.get("completed_on"), item.deadline), state,
                         fix.name))
    return rows or [("", PLAN_PENDING if plans else NO_PLAN, _day(None, item.deadline), state, "")]


def _problem_row(engine: Engine, item: Item, steps, running, now, dues) -> list:
    closed_on = engine.lights.local_date(item.closed_at).isoformat() if item.closed_at else ""
    return [item.number, item.aspect.title if item.aspect else "", item.title, item.description, item.category,
            item.unit.name, item.person.name, item.leader.name, item.deadline.isoformat(), item.standard, item.status,
            engine.lights.for_round(item.round).item_light(item.deadline, item.status, now, dues.get(item.id)), current_step(item, steps, running),
            closed_on]


def _duty_rows(items: list[Item], today) -> list[list]:
    duties: dict[tuple[str, int], tuple[User, list[Item]]] = {}
    for item in (i for i in items if i.status != STATUS_WITHDRAWN):  # a withdrawn item is nobody's duty
        for role, user in ((LEADER, item.leader), (OFFICER, item.person)):
            duties.setdefault((role, user.id), (user, []))[1].append(item)

    def order(duty):
        (role, user_id), (user, _) = duty
        return role != LEADER, user.unit.name, user.name, user_id

    rows = []
    for (role, _), (user, owned) in sorted(duties.items(), key=order):
        open_ = [i for i in owned if i.status != STATUS_CLOSED]
        rows.append([user.name, user.unit.name, role, len(owned), len(owned) - len(open_), len(open_),
                     sum(1 for i in open_ if today > i.deadline), "、".join(i.number for i in owned)])
    return rows


def three_lists(engine: Engine, round_ref: str | int) -> ThreeLists:
    """The round's three lists, read in one go."""
    now = CLOCK.now()
    with engine.db.reading() as session:
        round_ = find_round(session, round_ref)
        items = session.execute(select(Item).where(Item.round_id == round_.id).order_by(Item.id)
                                .options(*ITEM_LOAD_OPTIONS)).unique().scalars().all()
        open_, running = open_steps(session, round_.id), running_items(session, round_.id)
        steps = _steps(session, round_.id)
        gates = _gates(engine, session, steps)
        dues = earliest_dues(session, round_.id)
        problems = [_problem_row(engine, item, open_, running, now, dues) for item in items]
        tasks = [[item.number, item.title, item.unit.name, item.person.name, *task]
                 for item in items for task in _tasks(item, steps.get(item.id, []), gates)]
        duties = _duty_rows(items, engine.lights.local_date(now))
    return ThreeLists(problems, tasks, duties)


def export_lists(engine: Engine, round_ref: str | int) -> bytes:
    """The round's 三张清单 as .xlsx bytes: 问题清单, 任务清单, 责任清单."""
    return three_lists(engine, round_ref).xlsx()
