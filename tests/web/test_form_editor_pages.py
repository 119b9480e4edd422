"""The designer's form editor (web/designer.py): the list of task forms, the editor with its
server-rendered preview, saving a version with a comment, and downloading a saved version."""
import json
import re

from web_session import Auth, csrf_token

from engine.config import REPO_ROOT

ORIGINAL = (REPO_ROOT / "forms" / "immediate_fix.json").read_text(encoding="utf-8")


def _changed() -> str:
    schema = json.loads(ORIGINAL)
    schema["properties"]["measures"]["title"] = "采取的整改措施"
    return json.dumps(schema, ensure_ascii=False, indent=2)


def test_the_form_list_and_editor_show_every_form(client):
    Auth(client).login("孙浩")
    assert 'id="forms-link"' in client.get("/designer").get_data(as_text=True)
    listed = client.get("/designer/forms").get_data(as_text=True)
    assert 'id="form-immediate_fix"' in listed and "落实整改" in listed
    page = client.get("/designer/forms/immediate_fix").get_data(as_text=True)
    assert "整改措施" in page and 'name="csrf-token"' in page and "js/form_editor.js" in page
    assert "尚未在此保存过" in page


def test_the_preview_renders_the_form_as_a_task_page_does_and_names_problems(client):
    Auth(client).login("孙浩")
    token = csrf_token(client, "/designer/forms")
    shown = client.post("/designer/forms/preview", json={"text": _changed()}, headers={"X-CSRFToken": token}).get_json()
    assert shown["valid"] and 'data-field="measures"' in shown["html"] and "采取的整改措施" in shown["html"]
    assert 'name="completed_on"' in shown["html"] and 'type="date"' in shown["html"]
    bad = client.post("/designer/forms/preview", json={"text": '{"type": "object"'}, headers={"X-CSRFToken": token})
    assert bad.status_code == 200 and not bad.get_json()["valid"] and "不是有效的 JSON" in bad.get_json()["problems"][0]


def test_saving_needs_a_comment_and_a_valid_schema_then_lists_and_downloads_the_version(client):
    Auth(client).login("孙浩")
    token = csrf_token(client, "/designer/forms/immediate_fix")
    refused = client.post("/designer/forms/immediate_fix", data={"csrf_token": token, "text": '{"type": "array"}',
                                                                  "comment": ""})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "保存说明" in page and "顶层类型必须是 object" in page
    saved = client.post("/designer/forms/immediate_fix", data={"csrf_token": token, "text": _changed(),
                                                                "comment": "措施改名"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/designer/forms/immediate_fix")
    page = client.get("/designer/forms/immediate_fix").get_data(as_text=True)
    version = re.search(r'id="form-version-(\d+)"', page).group(1)
    assert "措施改名" in page and "采取的整改措施" in page and "已保存为版本" in page
    download = client.get(f"/designer/form-versions/{version}.json")
    assert download.status_code == 200 and json.loads(download.get_data(as_text=True)) == json.loads(_changed())
    assert f"immediate_fix-v{version}.json" in download.headers["Content-Disposition"]


def test_only_process_designers_reach_the_form_editor(client):
    Auth(client).login("周婷")
    assert client.get("/designer/forms").status_code == 403
    token = csrf_token(client, "/inbox")
    assert client.post("/designer/forms/immediate_fix", data={"csrf_token": token, "text": _changed(),
                                                               "comment": "x"}).status_code == 403


def test_a_new_form_starts_blank_and_is_listed_once_saved(client):
    Auth(client).login("孙浩")
    started = client.get("/designer/forms?new=site_check")
    assert started.status_code == 302 and "/designer/forms/site_check?new=1" in started.headers["Location"]
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "新表单，尚未保存" in page and "&#34;object&#34;" in page
    assert client.get("/designer/forms/site_check").status_code == 404
    assert client.get("/designer/forms/bad%20name?new=1").status_code == 400
    token = csrf_token(client, "/designer/forms")
    text = json.dumps({"type": "object", "title": "现场检查", "properties": {"note": {"type": "string", "title": "记录"}}})
    saved = client.post("/designer/forms/site_check", data={"csrf_token": token, "text": text, "comment": "新表单"})
    assert saved.status_code == 302
    assert 'id="form-site_check"' in client.get("/designer/forms").get_data(as_text=True)
    assert client.get("/designer/forms/site_check").status_code == 200
