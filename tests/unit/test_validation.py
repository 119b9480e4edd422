"""`rectify workflows validate` on broken BPMN: clear messages naming the element, exit 1, no traceback."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.config import REPO_ROOT
from engine.process.validation import validate_file

IMMEDIATE = (REPO_ROOT / "workflows" / "immediate.bpmn").read_text(encoding="utf-8")
FORMS = REPO_ROOT / "forms"


def broken(tmp_path: Path, text: str, name="broken.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("file", ["immediate.bpmn", "time_limited.bpmn", "long_term.bpmn"])
def test_shipped_workflows_are_valid(file):
    assert validate_file(REPO_ROOT / "workflows" / file, FORMS) == []


CASES = {
    "not xml": (lambda t: t[: len(t) // 2], "", "XML"),
    "lane not a role": (lambda t: t.replace('name="责任单位负责人"', 'name="财务人员"', 1), "", "不是角色名"),
    "missing form": (lambda t: t.replace('value="immediate_fix.json"', 'value="no_such_form.json"'), "fix_task", "no_such_form.json 不存在"),
    "unquoted timer literal": (lambda t: t.replace(">escalation_at<", ">P30D<"), "escalation_timer", "字面量需加引号"),
    "dangling flow": (lambda t: t.replace('targetRef="fix_task"', 'targetRef="nowhere"', 1), "", "无法解析"),
    "bad item status": (lambda t: t.replace('value="已销号"', 'value="完成"'), "", "itemStatus"),
    "no diagram": (lambda t: t[: t.index("<bpmndi:BPMNDiagram")] + "</bpmn:definitions>", "", "BPMNDI"),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_files_are_reported_with_the_element(tmp_path, case):
    mutate, element, words = CASES[case]
    mutated = mutate(IMMEDIATE)
    assert mutated != IMMEDIATE
    problems = validate_file(broken(tmp_path, mutated), FORMS)
    assert problems, case
    assert any(words in p.message for p in problems), [str(p) for p in problems]
    if element:
        assert any(p.element == element for p in problems), [str(p) for p in problems]


def test_signoff_gate_must_be_followed_by_a_decision(tmp_path):
    text = IMMEDIATE.replace('name="signoff" value="true"', 'name="signoff" value="true"', 1)
    # Make unit_head_review a gate whose outgoing flow goes straight to a task.
    start = text.index('sourceRef="unit_head_review"')
    flow_start = text.rfind("<bpmn:sequenceFlow", 0, start)
    flow_end = text.index(">", start)
    target_attr = text[flow_start:flow_end]
    target = target_attr.split('targetRef="')[1].split('"')[0]
    text = text.replace(f'sourceRef="unit_head_review" targetRef="{target}"', 'sourceRef="unit_head_review" targetRef="leader_signoff"')
    problems = validate_file(broken(tmp_path, text), FORMS)
    assert any(p.element == "unit_head_review" and "排他网关" in p.message for p in problems), [str(p) for p in problems]


def test_cli_exits_1_with_one_line_per_problem_and_no_traceback(tmp_path):
    good = REPO_ROOT / "workflows" / "immediate.bpmn"
    bad = broken(tmp_path, IMMEDIATE.replace('value="immediate_fix.json"', 'value="no_such_form.json"'))
    result = CliRunner().invoke(main, ["workflows", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "broken.bpmn [fix_task]: 表单文件 no_such_form.json 不存在" in result.output
    ok = CliRunner().invoke(main, ["workflows", "validate"])
    assert ok.exit_code == 0 and "校验通过" in ok.output
    missing = CliRunner().invoke(main, ["workflows", "validate", str(tmp_path / "nope.bpmn")])
    assert missing.exit_code == 1 and "无法读取文件" in missing.output
