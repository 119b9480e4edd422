"""Task forms edited in the designer: each save is a version with a comment; an invalid schema is
refused naming the problem; the next deploy snapshots the latest saved form, and an item started
before keeps the form of the version it runs on."""
import json

import pytest
from helpers import new_item
from sqlalchemy import select, text

from engine.config import REPO_ROOT
from engine.errors import Forbidden, InvalidInput
from engine.people.directory import user_id_of
from engine.process.designs import deploy_xml
from engine.process.form_versions import form_detail, form_version_file, list_forms, save_form, saved_forms_if_any
from engine.process.validation import validate_file
from engine.store.models import IMMEDIATE, AuditEntry, ProcessInstance, ProcessVersion

ORIGINAL = json.loads((REPO_ROOT / "forms" / "immediate_fix.json").read_text(encoding="utf-8"))


def changed_form() -> dict:
    schema = json.loads(json.dumps(ORIGINAL))
    schema["properties"]["measures"]["title"] = "采取的整改措施"
    return schema


def form_of_item(engine, item_id: int) -> dict:
    with engine.db.reading() as session:
        version = session.execute(select(ProcessVersion).join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
                                  .where(ProcessInstance.item_id == item_id)).scalar_one()
        return version.forms["immediate_fix"]


def test_a_designer_saves_a_form_version_with_a_comment(staffed_round):
    engine = staffed_round
    designer = user_id_of(engine, "孙浩")
    assert form_detail(engine, "immediate_fix")["versions"] == []
    with pytest.raises(InvalidInput) as refused:
        save_form(engine, "immediate_fix", json.dumps(changed_form()), " ", designer)
    assert "comment" in refused.value.field_errors and "保存说明" in refused.value.field_errors["comment"]
    with pytest.raises(Forbidden):
        save_form(engine, "immediate_fix", json.dumps(changed_form()), "改标题", user_id_of(engine, "王强"))

    saved = save_form(engine, "immediate_fix", json.dumps(changed_form(), ensure_ascii=False), "措施改称采取的整改措施", designer)
    assert saved["status"] == "saved"
    again = save_form(engine, "immediate_fix", json.dumps(changed_form(), indent=1), "再存一次", designer)
    assert again["status"] == "unchanged" and again["version"]["id"] == saved["version"]["id"]

    detail = form_detail(engine, "immediate_fix")
    assert [v["comment"] for v in detail["versions"]] == ["措施改称采取的整改措施"]
    assert detail["versions"][0]["saved_by"] == "孙浩" and "采取的整改措施" in detail["text"]
    listed = next(f for f in list_forms(engine) if f["key"] == "immediate_fix")
    assert listed["versions"] == 1 and listed["latest"]["id"] == saved["version"]["id"]
    download = form_version_file(engine, saved["version"]["id"])
    assert json.loads(download["content"]) == changed_form()
    assert download["download_name"] == f"immediate_fix-v{saved['version']['id']}.json"
    with engine.db.reading() as session:
        assert "form.save" in session.execute(select(AuditEntry.action)).scalars().all()


@pytest.mark.parametrize("content, problem", [
    ('{"type": "object",', "不是有效的 JSON：第 1 行"),
    ('{"type": "object", "properties": {"a": {"type": "text"}}}', "不是有效的 JSON Schema"),
    ('{"type": "array"}', "顶层类型必须是 object"),
])
def test_an_invalid_form_is_refused_naming_the_problem(staffed_round, content, problem):
    engine = staffed_round
    with pytest.raises(InvalidInput) as refused:
        save_form(engine, "immediate_fix", content, "试试", user_id_of(engine, "孙浩"))
    assert problem in refused.value.field_errors["text"]
    assert form_detail(engine, "immediate_fix")["versions"] == []


def test_a_bad_form_name_is_refused(staffed_round):
    with pytest.raises(InvalidInput) as refused:
        save_form(staffed_round, "../etc/passwd", "{}", "x", user_id_of(staffed_round, "孙浩"))
    assert "表单名称" in refused.value.field_errors["key"]


def test_the_next_deploy_snapshots_the_saved_form_and_running_items_keep_theirs(staffed_round):
    engine = staffed_round
    designer = user_id_of(engine, "孙浩")
    before = new_item(engine, IMMEDIATE)
    save_form(engine, "immediate_fix", json.dumps(changed_form(), ensure_ascii=False), "措施改名", designer)
    assert form_of_item(engine, before) == ORIGINAL  # a save alone changes no version

    xml = (REPO_ROOT / "workflows" / "immediate.bpmn").read_text(encoding="utf-8")
    done = deploy_xml(engine, "immediate.bpmn", xml, "用新表单", designer)
    assert done["status"] == "deployed" and done["created"]  # same BPMN, new form: a new version
    after = new_item(engine, IMMEDIATE, number="2")
    assert form_of_item(engine, after)["properties"]["measures"]["title"] == "采取的整改措施"
    assert form_of_item(engine, before) == ORIGINAL


def test_form_versions_are_append_only_in_the_database(staffed_round):
    engine = staffed_round
    save_form(engine, "immediate_fix", json.dumps(changed_form()), "改", user_id_of(engine, "孙浩"))
    with pytest.raises(Exception):
        with engine.db.engine.begin() as conn:
            conn.execute(text("UPDATE form_versions SET comment = 'x'"))


def test_a_form_saved_only_in_the_designer_is_what_checks_and_deploys_read(staffed_round, tmp_path):
    engine = staffed_round
    from engine.process.designs import deploy_preview

    xml = (REPO_ROOT / "workflows" / "immediate.bpmn").read_text(encoding="utf-8").replace(
        'value="immediate_fix.json"', 'value="site_fix.json"')
    refused = deploy_preview(engine, "immediate.bpmn", xml)
    assert not refused["valid"] and any("site_fix.json 不存在" in p["message"] for p in refused["problems"])
    bpmn = tmp_path / "immediate.bpmn"
    bpmn.write_text(xml, encoding="utf-8")

    def file_check():  # `rectify workflows validate FILE` on a machine with the database
        return [p.message for p in validate_file(bpmn, engine.settings.forms_path, saved_forms_if_any(engine))]
    assert any("site_fix.json 不存在" in m for m in file_check())
    save_form(engine, "site_fix", json.dumps(changed_form(), ensure_ascii=False), "现场整改表单", user_id_of(engine, "孙浩"))
    assert "site_fix" in [f["key"] for f in list_forms(engine)]
    assert deploy_preview(engine, "immediate.bpmn", xml)["valid"] and file_check() == []
    done = deploy_xml(engine, "immediate.bpmn", xml, "改用现场整改表单", user_id_of(engine, "孙浩"))
    with engine.db.reading() as session:
        assert session.get(ProcessVersion, done["version_id"]).forms["site_fix"] == changed_form()


def test_checking_files_needs_no_migrated_database(cli):
    assert cli.json("workflows", "validate") == []  # the default processes, against forms/ alone
