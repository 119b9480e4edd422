"""BPMN as Camunda Modeler and bpmn.io write it (their own extension namespaces, often no lanes) is
either accepted or refused element by element, with what to do instead — never a traceback."""
from pathlib import Path

from engine.config import REPO_ROOT
from engine.process.validation import validate_file, validate_xml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FORMS = REPO_ROOT / "forms"


def problems(name):
    return {(p.element, p.message) for p in validate_file(FIXTURES / name, FORMS)}


def test_a_camunda_modeler_file_is_refused_task_by_task_naming_the_camunda_settings_it_ignores():
    found = problems("camunda_modeler.bpmn")
    by_element = {}
    for element, message in found:
        by_element.setdefault(element, []).append(message)
    assert set(by_element) == {"Activity_fix", "Activity_review"}
    fix = " ".join(by_element["Activity_fix"])
    assert "不在任何泳道中" in fix and "camunda:assignee" in fix and "camunda:candidateGroups" in fix
    assert "camunda:formKey" in fix and "formJsonSchemaFilename" in fix
    assert all("Traceback" not in m for _, m in found)


def test_a_camunda_8_file_names_its_zeebe_extensions():
    messages = " ".join(m for _, m in problems("camunda8_zeebe.bpmn"))
    assert "zeebe:assignmentDefinition" in messages and "zeebe:formDefinition" in messages


def test_a_blank_bpmn_io_diagram_is_refused_at_its_process():
    assert problems("bpmn_io_blank.bpmn") == {
        ("Process_1", "流程未标记为可执行（isExecutable=\"true\"）；每个文件应恰好有一个可执行流程")}


def test_a_bpmn_io_file_with_role_lanes_and_our_properties_passes_beside_camunda_attributes():
    assert problems("bpmn_io_review.bpmn") == set()


def test_what_is_not_bpmn_at_all_is_one_problem_not_a_traceback():
    assert [p.message for p in validate_xml(b"<html><body>hi</body></html>", "page.bpmn", FORMS)] == [
        "不是 BPMN 2.0 文件（根元素应为 bpmn:definitions）"]
    assert "不是格式正确的 XML" in validate_xml(b"<bpmn:definitions", "cut.bpmn", FORMS)[0].message
