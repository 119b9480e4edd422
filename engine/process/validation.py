"""`rectify workflows validate`: everything a process designer can get wrong in a BPMN file, each
problem with the element it concerns, and never a traceback."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.ledger.lights import LightRules, Thresholds
from engine.process.bpmn import PROP_DUE, PROP_FORM, PROP_ITEM_STATUS, PROP_REVIEWS, PROP_SIGNOFF, parse_process
from engine.process.forms import schema_problems
from engine.store.models import ITEM_STATUSES, ROLES

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# Stand-ins for the process variables every path starts with (engine/instances.initial_data).
SAMPLE_DATA = {
    "item_id": 1, "category": "立行立改", "deadline": "2026-06-30", "escalation_at": "2026-07-31T00:00:00+08:00",
    "red_days": 30, "plan_due": "2026-02-15", "needs_third_party": False, "lookbacks_required": 2, "reopened": False,
    "new_deadline": "2026-12-31", "lookback_due": "2026-12-31", "request_due": "2026-12-31", "approver": "分管领导",
    "reply_due": "2026-12-31", "escalate_at": "2027-01-01T00:00:00+08:00",
}


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.element}]" if self.element else "")
        return f"{where}: {self.message}"


# Other modelers' own settings (Camunda 7 attributes, Camunda 8 extension elements): the engine does
# not read them, and says so where a designer would expect them to work.
FOREIGN = ("http://camunda.org/schema/1.0/bpmn", "http://camunda.org/schema/zeebe/1.0")
FOREIGN_ASSIGNMENT = ("assignee", "candidateGroups", "candidateUsers", "assignmentDefinition")
FOREIGN_FORM = ("formKey", "formDefinition", "formData", "userTaskForm")


def _foreign(node, names: tuple[str, ...]) -> list[str]:
    """The Camunda settings among `names` on a task (attributes or extension elements), as written."""
    found = [f"camunda:{etree.QName(a).localname}" for a in node.attrib
             if etree.QName(a).namespace in FOREIGN and etree.QName(a).localname in names]
    found += [f"{'zeebe' if etree.QName(e).namespace == FOREIGN[1] else 'camunda'}:{etree.QName(e).localname}"
              for e in node.iterfind(".//bpmn:extensionElements/*", NS)
              if etree.QName(e).namespace in FOREIGN and etree.QName(e).localname in names]
    return found


def _props(node) -> dict[str, str]:
    return {p.get("name"): p.get("value", "") for p in node.iterfind(".//spiffworkflow:property", NS)}


def validate_file(path: Path, forms_path: Path, saved: dict[str, dict] | None = None) -> list[Problem]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [Problem(path.name, "", f"无法读取文件：{exc.strerror or exc}")]
    return validate_xml(raw, path.name, forms_path, saved)


def validate_xml(raw: bytes, name: str, forms_path: Path, saved: dict[str, dict] | None = None) -> list[Problem]:
    """The same checks on BPMN held in memory (a file edited in the browser designer). `saved`: file
    name → the latest form saved in the designer, read instead of the file in forms_path."""
    try:
        tree = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [Problem(name, "", f"不是格式正确的 XML：第 {exc.lineno} 行：{exc.msg}")]
    if etree.QName(tree).namespace != NS["bpmn"] or etree.QName(tree).localname != "definitions":
        return [Problem(name, "", "不是 BPMN 2.0 文件（根元素应为 bpmn:definitions）")]
    processes = tree.findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable", "").lower() == "true"]
    if len(executable) != 1:
        return [Problem(name, p.get("id", ""), "流程未标记为可执行（isExecutable=\"true\"）；每个文件应恰好有一个可执行流程")
                for p in processes] if not executable else [
                Problem(name, p.get("id", ""), f"文件中有 {len(executable)} 个可执行流程，每个文件只能有一个") for p in executable]
    try:
        _process_id, spec, subprocess_specs = parse_process(raw, name)
    except ValidationException as exc:
        return [Problem(name, getattr(exc, "id", "") or "", f"SpiffWorkflow 无法解析：{str(exc).splitlines()[0]}")]
    except Exception as exc:  # the parser raises plain exceptions for some malformed input
        return [Problem(name, "", f"SpiffWorkflow 无法解析：{exc}")]

    problems: list[Problem] = []
    problems += _check_lanes(name, tree)
    reported = {p.element for p in problems}  # a task outside every lane is reported once
    problems += [p for p in _check_effective_lanes(name, spec, subprocess_specs) if p.element not in reported]
    problems += _check_user_tasks(name, tree, forms_path, saved or {})
    problems += _check_timers(name, tree)
    problems += _check_status_markers(name, tree)
    if not tree.findall(".//{*}BPMNDiagram"):
        problems.append(Problem(name, "", "缺少流程图信息（BPMNDI），在 bpmn.io 建模器中无法显示"))
    return problems


def _check_lanes(name: str, tree) -> list[Problem]:
    problems = []
    lanes = tree.findall(".//bpmn:lane", NS)
    lane_of = {}
    for lane in lanes:
        if lane.get("name") not in ROLES:
            problems.append(Problem(name, lane.get("id", ""), f"泳道名称「{lane.get('name')}」不是角色名（可用：{'、'.join(ROLES)}）"))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = lane.get("name")
    for task in tree.iterfind(".//bpmn:userTask", NS):
        if task.get("id") not in lane_of:
            foreign = _foreign(task, FOREIGN_ASSIGNMENT)
            hint = (f"（{'、'.join(foreign)} 不被本引擎读取：请把任务放进以角色命名的泳道，如「责任人」）" if foreign
                    else "（请把任务放进以角色命名的泳道，如「责任人」）")
            problems.append(Problem(name, task.get("id", ""), "用户任务不在任何泳道中，无法确定办理人" + hint))
    return problems


def _check_effective_lanes(name: str, spec, subprocess_specs) -> list[Problem]:
    """The lane SpiffWorkflow will use: a sub-process placed in a lane overrides its children's lanes,
    which the modeler does silently when a sub-process is moved."""
    problems = []
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if not getattr(task_spec, "manual", False) or not getattr(task_spec, "bpmn_id", None):
                continue
            if task_spec.lane not in ROLES:
                problems.append(Problem(name, task_spec.bpmn_id, f"运行时该任务的泳道为「{task_spec.lane or '空'}」，"
                                        "不是角色名（子流程放在某个泳道中时，其内部任务一律归该泳道）"))
    return problems


def _check_user_tasks(name: str, tree, forms_path: Path, saved: dict[str, dict]) -> list[Problem]:
    problems = []
    nodes = {n.get("id"): n for n in tree.iter() if n.get("id")}
    flows = list(tree.iterfind(".//bpmn:sequenceFlow", NS))
    for task in tree.iterfind(".//bpmn:userTask", NS):
        tid, props = task.get("id", ""), _props(task)
        filename = props.get(PROP_FORM)
        schema = None
        if not filename:
            foreign = _foreign(task, FOREIGN_FORM)
            hint = f"；{'、'.join(foreign)} 不被本引擎读取" if foreign else ""
            problems.append(Problem(name, tid, f"用户任务未指定表单（spiffworkflow:property {PROP_FORM}{hint}）"))
        elif filename in saved:
            schema = saved[filename]
        else:
            form_file = forms_path / filename
            if not form_file.exists():
                problems.append(Problem(name, tid, f"表单文件 {filename} 不存在"))
            else:
                try:
                    schema = json.loads(form_file.read_text(encoding="utf-8"))
                except json.JSONDecodeError as exc:
                    problems.append(Problem(name, tid, f"表单文件 {filename} 不是有效的 JSON：第 {exc.lineno} 行"))
                else:
                    problems += [Problem(name, tid, f"表单 {filename}：{m}") for m in schema_problems(schema)]
        if props.get(PROP_SIGNOFF, "").lower() != "true":
            continue
        if schema is not None and "decision" not in schema.get("properties", {}):
            problems.append(Problem(name, tid, "签字环节的表单必须有 decision（通过/退回）字段"))
        for reviewed in filter(None, (r.strip() for r in props.get(PROP_REVIEWS, "").split(","))):
            if reviewed not in nodes:
                problems.append(Problem(name, tid, f"reviews 引用的环节 {reviewed} 不存在"))
        outgoing = [f for f in flows if f.get("sourceRef") == tid]
        target = nodes.get(outgoing[0].get("targetRef")) if len(outgoing) == 1 else None
        if target is None or etree.QName(target).localname != "exclusiveGateway":
            problems.append(Problem(name, tid, "签字环节之后必须紧跟一个按 decision 分支的排他网关"))
            continue
        conditions = [(f.findtext("bpmn:conditionExpression", default="", namespaces=NS) or "")
                      for f in flows if f.get("sourceRef") == target.get("id")]
        if not any("decision" in c for c in conditions):
            problems.append(Problem(name, target.get("id", ""), "签字环节之后的网关没有按 decision（通过/退回）分支"))
    return problems


_RULES = LightRules("Asia/Shanghai")
_FUNCTIONS = {"escalation_time": lambda d, red_days=30: _RULES.with_thresholds(Thresholds(red_days=int(red_days)))
              .escalation_moment(date.fromisoformat(str(d)[:10])).isoformat(),
              "in_days": lambda n: (date(2026, 6, 1) + timedelta(days=int(n))).isoformat()}


def _evaluate(expression: str):
    functions = dict(_FUNCTIONS)
    return eval(expression, functions, dict(SAMPLE_DATA))  # noqa: S307 — designer-authored, trusted like BPMN scripts


def _check_timers(name: str, tree) -> list[Problem]:
    problems = []
    for definition in tree.iterfind(".//bpmn:timerEventDefinition", NS):
        event = definition.getparent()
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            expression = definition.findtext(f"bpmn:{kind}", namespaces=NS)
            if expression is None:
                continue
            try:
                value = str(_evaluate(expression.strip()))
                if kind == "timeDate":
                    TimerEventDefinition.get_datetime(value)
                elif kind == "timeDuration":
                    TimerEventDefinition.parse_iso_duration(value)
                else:
                    TimerEventDefinition.parse_iso_recurring_interval(value)
            except Exception as exc:
                problems.append(Problem(name, event.get("id", ""),
                                        f"定时器表达式 {expression.strip()!r} 无法求值为有效的 {kind}：{exc}（字面量需加引号，如 'P1M'）"))
    for task in tree.iterfind(".//bpmn:userTask", NS):
        due = _props(task).get(PROP_DUE)
        if due:
            try:
                date.fromisoformat(str(_evaluate(due))[:10])
            except Exception as exc:
                problems.append(Problem(name, task.get("id", ""), f"期限表达式 {due!r} 无法求值为日期：{exc}"))
    return problems


def _check_status_markers(name: str, tree) -> list[Problem]:
    problems = []
    for node in tree.iter():
        status = _props(node).get(PROP_ITEM_STATUS) if node.find("bpmn:extensionElements", NS) is not None else None
        if status and status not in ITEM_STATUSES:
            problems.append(Problem(name, node.get("id", ""), f"itemStatus「{status}」无效（只能是 {'、'.join(ITEM_STATUSES)}）"))
    return problems
