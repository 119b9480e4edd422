"""The browser designer's pages (web/designer.py): the processes and versions, the modeler's data,
checking and deploying BPMN text as JSON, approving a script deploy, migrating and reverting; and
整改办's 退回到任意环节 form."""
import json
import re

from helpers import FIX, PASSWORD, do, evidence, new_item, new_round
from web_session import Auth, csrf_token

from engine.config import REPO_ROOT
from engine.people.directory import add_user
from engine.process.versions import list_processes
from engine.store.models import ADMIN, DESIGNER, IMMEDIATE

IMMEDIATE_XML = (REPO_ROOT / "workflows" / "immediate.bpmn").read_text(encoding="utf-8")


def _process(engine, process_id):
    return next(p for p in list_processes(engine) if p["process_id"] == process_id)


def _post_json(client, url, body):
    token = csrf_token(client, "/designer")
    return client.post(url, json=body, headers={"X-CSRFToken": token})


def test_the_designer_lists_versions_and_downloads_any_of_them(client, engine):
    Auth(client).login("孙浩")
    page = client.get("/designer").get_data(as_text=True)
    immediate = _process(engine, "immediate")
    assert "立行立改" in page and f'id="version-{immediate["current_version"]}"' in page
    assert immediate["versions"][0]["hash"][:12] in page and 'id="nav-designer"' in page
    download = client.get(f"/designer/versions/{immediate['current_version']}.bpmn")
    assert download.status_code == 200 and download.get_data(as_text=True) == IMMEDIATE_XML
    assert f"immediate-v{immediate['current_version']}.bpmn" in download.headers["Content-Disposition"]


def test_the_modeler_page_carries_the_bpmn_and_the_forms(client, engine):
    Auth(client).login("孙浩")
    version = _process(engine, "immediate")["current_version"]
    page = client.get(f"/designer/versions/{version}/edit").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="designer-data">(.*?)</script>', page, re.DOTALL).group(1))
    assert data["xml"] == IMMEDIATE_XML and "immediate_fix.json" in data["forms"] and data["file_name"] == "immediate.bpmn"
    assert "build/designer.js" in page and 'name="csrf-token"' in page


def test_check_shows_problems_by_element_and_nothing_invalid_deploys(client, engine):
    Auth(client).login("孙浩")
    broken = IMMEDIATE_XML.replace('<spiffworkflow:property name="formJsonSchemaFilename" value="immediate_fix.json"/>', "")
    checked = _post_json(client, "/designer/check", {"file_name": "immediate.bpmn", "xml": broken}).get_json()
    assert checked["valid"] is False and "fix_task" in {p["element"] for p in checked["problems"]}
    refused = _post_json(client, "/designer/deploy", {"file_name": "immediate.bpmn", "xml": broken, "comment": "试试"})
    assert refused.status_code == 400 and "fix_task" in refused.get_json()["fields"]
    no_comment = _post_json(client, "/designer/deploy", {"file_name": "immediate.bpmn", "xml": IMMEDIATE_XML, "comment": " "})
    assert no_comment.status_code == 400 and "comment" in no_comment.get_json()["fields"]
    assert len(_process(engine, "immediate")["versions"]) == 1


def test_a_valid_change_deploys_and_a_running_item_migrates_and_reverts(client, engine):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    Auth(client).login("孙浩")
    renamed = IMMEDIATE_XML.replace('name="落实整改"', 'name="立即整改"')
    preview = _post_json(client, "/designer/check", {"file_name": "immediate.bpmn", "xml": renamed}).get_json()
    assert preview["valid"] and preview["steps"]["changed"] == ["落实整改（fix_task）"] and not preview["needs_approval"]
    done = _post_json(client, "/designer/deploy", {"file_name": "immediate.bpmn", "xml": renamed, "comment": "改名"}).get_json()
    assert done["status"] == "deployed" and _process(engine, "immediate")["current_version"] == done["version_id"]

    page = client.get(f"/designer/processes/immediate/migrate?to={done['version_id']}").get_data(as_text=True)
    assert f'id="row-{item}"' in page and "可迁移" in page
    token = csrf_token(client, "/designer")
    moved = client.post("/designer/processes/immediate/migrate",
                        data={"csrf_token": token, "to": done["version_id"], "item": [str(item)]})
    assert moved.status_code == 200 and "已迁移到版本" in moved.get_data(as_text=True)
    assert _process(engine, "immediate")["versions"][0]["items_running"] == 1
    reverted = client.post(f"/designer/items/{item}/revert", data={"csrf_token": token, "process_id": "immediate"})
    assert reverted.status_code == 302 and "/designer/processes/immediate/migrate" in reverted.headers["Location"]
    assert _process(engine, "immediate")["versions"][0]["items_running"] == 0


def test_a_script_change_waits_for_another_designer_or_an_admin(client, engine):
    add_user(engine, "郑洁", "办公室", [DESIGNER], PASSWORD)
    xml = (REPO_ROOT / "workflows" / "long_term.bpmn").read_text(encoding="utf-8")
    changed = xml.replace("enacted_rules = []", "enacted_rules = list()")
    Auth(client).login("郑洁", PASSWORD)
    pending = _post_json(client, "/designer/deploy", {"file_name": "long_term.bpmn", "xml": changed, "comment": "脚本改写"})
    assert pending.get_json()["status"] == "pending"
    request_id = pending.get_json()["request_id"]
    own = client.post(f"/designer/requests/{request_id}/approve", data={"csrf_token": csrf_token(client, "/designer")})
    assert own.status_code == 403
    Auth(client).logout()
    # An administrator who is not a designer finds the request from the menu and approves it
    add_user(engine, "钱敏", "办公室", [ADMIN], PASSWORD)
    Auth(client).login("钱敏", PASSWORD)
    assert 'id="nav-designer"' in client.get("/inbox").get_data(as_text=True)
    page = client.get("/designer").get_data(as_text=True)
    assert f'id="request-{request_id}"' in page and "编辑当前版本" not in page  # approves, does not model
    approved = client.post(f"/designer/requests/{request_id}/approve", data={"csrf_token": csrf_token(client, "/designer")})
    assert approved.status_code == 302
    assert _process(engine, "long_term")["versions"][0]["comment"] == "脚本改写"
    assert _process(engine, "long_term")["pending"] == []


def test_the_office_sends_an_open_item_back_to_an_earlier_step(client, engine):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())  # now at the unit head's sign-off
    Auth(client).login("周婷")
    page = client.get(f"/items/{item}/rewind").get_data(as_text=True)
    assert 'id="rewind-form"' in page
    step = re.search(r'<option value="([^"]+)"', page).group(1)
    asked = client.post(f"/items/{item}/rewind", data={"csrf_token": csrf_token(client, f"/items/{item}/rewind"),
                                                       "step_id": step, "reason": "整改方案与问题不对应"})
    assert asked.status_code == 302
    assert "退回" in client.get(f"/items/{item}").get_data(as_text=True)
