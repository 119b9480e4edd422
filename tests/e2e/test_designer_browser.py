"""A process designer edits 立行立改 in the browser (bpmn-js driven through its API, not by dragging):
adds a step in the 责任单位负责人 lane, sees validation refuse it without a form, picks the form in our
properties panel, deploys version 2 with a comment; new items run the new step, an older item stays
on version 1 until the migration page moves it."""
import re

from browser_session import login
from helpers import FIX, do, evidence, new_item, new_round, open_tasks

from engine.process.versions import list_processes
from engine.store.models import IMMEDIATE

ADD_STEP = """() => {
  const m = window.rectifyModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling');
  const task = m.get('elementFactory').createShape({type: 'bpmn:UserTask',
    businessObject: m.get('bpmnFactory').create('bpmn:UserTask', {id: 'unit_check', name: '单位复核'})});
  modeling.createShape(task, {x: 460, y: 330}, registry.get('immediate_participant'));
  modeling.removeConnection(registry.get('flow_fix_task_to_unit_head_review'));
  modeling.connect(registry.get('fix_task'), task);
  modeling.connect(task, registry.get('unit_head_review'));
  m.get('selection').select(task);
  return task.businessObject.lanes.map((lane) => lane.name);
}"""


def _immediate(engine):
    return next(p for p in list_processes(engine) if p["process_id"] == "immediate")


def _tasks(engine, item):
    return [(t["bpmn_id"], t["assignee"]) for t in open_tasks(engine, item)]


def test_a_designer_adds_a_step_deploys_it_and_migrates_a_running_item(page, live_cast, screenshots):
    url, engine = live_cast
    new_round(engine)
    before = new_item(engine, IMMEDIATE, number="1")
    version_1 = _immediate(engine)["current_version"]

    login(page, url, "孙浩")
    page.click("#nav-designer")
    page.screenshot(path=screenshots / "designer-index.png")
    page.click("#process-immediate .open-modeler")
    page.wait_for_selector("body[data-modeler-ready]")
    assert page.evaluate(ADD_STEP) == ["责任单位负责人"]

    page.click("#check")
    problem = page.locator("#problems .problem", has_text="unit_check")
    problem.wait_for()
    page.evaluate("window.rectifyModeler.get('selection').select([])")
    problem.locator(".problem-element").click()  # the message selects the element it concerns
    assert page.evaluate("window.rectifyModeler.get('selection').get().map((e) => e.id)") == ["unit_check"]

    page.click("[data-group-id=group-rectify] .bio-properties-panel-group-header-title")
    assert page.input_value("#bio-properties-panel-rectify-role") == "责任单位负责人"
    page.select_option("#bio-properties-panel-rectify-form", "immediate_fix.json")
    page.screenshot(path=screenshots / "designer-modeler.png")
    select = "(id) => window.rectifyModeler.get('selection').select(window.rectifyModeler.get('elementRegistry').get(id))"
    page.evaluate(select, "closed_event")  # what the engine reads from events, in the same group
    assert page.input_value("#bio-properties-panel-rectify-item-status") == "已销号"
    page.evaluate(select, "escalation_timer")
    assert page.input_value("#bio-properties-panel-rectify-timer-expression") == "escalation_at"
    page.fill("#comment", "整改后增加责任单位复核")
    page.click("#deploy")
    page.wait_for_selector(".deploy-result")
    assert "成为当前版本" in page.inner_text(".deploy-result")
    version_2 = _immediate(engine)["current_version"]
    assert version_2 != version_1 and _immediate(engine)["versions"][0]["comment"] == "整改后增加责任单位复核"

    after = new_item(engine, IMMEDIATE, number="2")  # a new item runs the new step
    do(engine, after, "fix_task", "张伟", FIX, files=evidence())
    assert _tasks(engine, after)[0][0] == "unit_check" and "李娜" in _tasks(engine, after)[0][1]

    page.goto(f"{url}/designer/processes/immediate/migrate")  # the older item stays on version 1 until moved
    row = page.locator(f"#row-{before}")
    assert "可迁移" in row.inner_text() and f"版本 {version_1}" in row.inner_text()
    page.screenshot(path=screenshots / "designer-migrate.png", full_page=True)
    page.click("#migrate")
    page.wait_for_selector("#results")
    assert "已迁移到版本" in page.inner_text("#results")
    assert [t[0] for t in _tasks(engine, before)] == ["fix_task"] and "张伟" in _tasks(engine, before)[0][1]
    do(engine, before, "fix_task", "张伟", FIX, files=evidence())
    assert _tasks(engine, before)[0][0] == "unit_check" and "李娜" in _tasks(engine, before)[0][1]
    assert re.search(r"撤销迁移", page.content())
