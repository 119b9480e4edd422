"""In the browser: bpmnlint's recommended rules and ours lint the modeler's diagram as it changes (a
user task without a form is flagged at once); the form editor previews a form as a task page
renders it, names what is wrong with the JSON, and saves a version with a comment."""
import json

from browser_session import login

from engine.config import REPO_ROOT

ADD_TASK = """() => {
  const m = window.rectifyModeler;
  const registry = m.get('elementRegistry');
  const task = m.get('elementFactory').createShape({type: 'bpmn:UserTask',
    businessObject: m.get('bpmnFactory').create('bpmn:UserTask', {id: 'unit_check', name: '单位复核'})});
  m.get('modeling').createShape(task, {x: 460, y: 330}, registry.get('immediate_participant'));
}"""
OWN_ISSUES = """async () => {
  const issues = await window.rectifyModeler.get('linting').lint();
  return Object.entries(issues).filter(([rule]) => rule.startsWith('rectify/'))
    .flatMap(([rule, reports]) => reports.map((r) => [r.id, rule]));
}"""


def test_the_modeler_lints_and_flags_a_user_task_without_a_form(page, live_cast):
    url, _ = live_cast
    login(page, url, "孙浩")
    page.goto(f"{url}/designer")
    page.click("#process-immediate .open-modeler")
    page.wait_for_selector("body[data-modeler-ready]")
    page.wait_for_selector(".bjsl-button")
    assert page.evaluate(OWN_ISSUES) == []  # the default process passes our rules
    page.evaluate(ADD_TASK)
    assert ["unit_check", "rectify/user-task-form"] in page.evaluate(OWN_ISSUES)
    page.wait_for_selector("[data-container-id=unit_check] .bjsl-overlay, .bjsl-overlay")

    # The modeler speaks Chinese: the palette, the issue counts, bpmnlint's messages and the panel's header
    assert page.locator(".djs-palette .entry[data-action='create.task']").get_attribute("aria-label") == "创建任务"
    page.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('个错误')")
    issues = page.locator(".bjsl-overlay").all_text_contents()
    assert any("元素没有流出的顺序流" in i and "用户任务未指定表单" in i for i in issues), issues
    page.evaluate("window.rectifyModeler.get('selection').select(window.rectifyModeler.get('elementRegistry')"
                  ".get('unit_check'))")
    assert page.inner_text(".bio-properties-panel-header-type").strip() == "用户任务"


def test_the_form_editor_previews_refuses_bad_json_and_saves_a_version(page, live_cast, screenshots):
    url, _ = live_cast
    login(page, url, "孙浩")
    page.goto(f"{url}/designer")
    page.click("#forms-link")
    page.click("#form-immediate_fix a")
    page.wait_for_selector("#form-preview [data-field=measures]")
    page.fill("#form-text", '{"type": "object",')
    page.wait_for_selector("#form-text.is-invalid")
    assert "不是有效的 JSON" in page.text_content("#text-problems")

    schema = json.loads((REPO_ROOT / "forms" / "immediate_fix.json").read_text(encoding="utf-8"))
    schema["properties"]["measures"]["title"] = "采取的整改措施"
    page.fill("#form-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.locator("#form-preview [data-field=measures]", has_text="采取的整改措施").wait_for()
    page.screenshot(path=screenshots / "designer-form-editor.png")
    page.fill("#form-comment", "措施改名")
    page.click("text=保存为新版本")
    page.locator(".form-version", has_text="措施改名").wait_for()
    assert page.locator(".form-version").count() == 1
