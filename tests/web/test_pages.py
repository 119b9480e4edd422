"""The web UI through Flask's test client: access control, CSRF, forms, sign-off, conflicts."""
import hashlib
import io
import re

import pytest
from helpers import FIX, PASSWORD, close_immediate_item, do, evidence, new_item, new_round, task_id
from sqlalchemy import func, select
from web_session import Auth, csrf_token
from werkzeug.routing import IntegerConverter

from engine.ledger.detail import item_detail
from engine.store.models import IMMEDIATE, AuditEntry, EvidenceFile, TaskRecord
from web import create_app


@pytest.fixture
def item(engine):
    new_round(engine)
    return new_item(engine, IMMEDIATE)


@pytest.fixture
def other_unit_item(engine, item):
    return new_item(engine, IMMEDIATE, number="9", unit="工程管理科", person="王强")


@pytest.mark.parametrize("url", ["/inbox", "/items", "/items/1", "/items/1/diagram", "/items/1/evidence/" + "a" * 64,
                                 "/tasks/00000000-0000-0000-0000-000000000000", "/password"])
def test_anonymous_users_are_sent_to_login(client, item, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# Pages anyone may use without logging in; every other route must send an anonymous user to login.
PUBLIC = {"static", "vendor", "auth.login", "verify.index", "verify.check"}


def test_every_route_but_the_public_ones_needs_a_login(app, client, item):
    """Walks the URL map, so a route added later without @login_required fails here."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        url = rule.build({arg: 1 if isinstance(conv, IntegerConverter) else "00000000-0000-0000-0000-000000000000"
                          for arg, conv in rule._converters.items()})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": csrf_token(client, "/login")} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
            checked += 1
    assert checked > 25


def test_login_logout_and_limited_failures(client, auth):
    bad = auth.login("张伟", "wrong-password")
    assert bad.status_code == 403 and "姓名或密码错误" in bad.get_data(as_text=True)
    assert auth.login("张伟").status_code == 302
    assert "我的待办" in client.get("/inbox").get_data(as_text=True)
    auth.logout()
    assert client.get("/inbox").status_code == 302
    for _ in range(3):
        auth.login("李娜", "wrong-password")
    waiting = auth.login("李娜")  # right password, but this source must wait a moment now
    assert waiting.status_code == 403 and "尝试过于频繁" in waiting.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, auth, item, engine):
    auth.login("张伟")
    tid = task_id(engine, item, "fix_task")
    response = client.post(f"/tasks/{tid}", data=FIX)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert task_id(engine, item, "fix_task") == tid


def test_inbox_lists_own_tasks_with_light_and_count(client, auth, item):
    auth.login("张伟")
    html = client.get("/inbox").get_data(as_text=True)
    assert "落实整改" in html and "测试问题1" in html and "去办理" in html
    assert re.search(r'id="inbox-count">1<', html)


def test_other_units_item_task_and_evidence_are_403(client, auth, engine, other_unit_item):
    do(engine, other_unit_item, "fix_task", "王强", FIX, files=evidence("工程.pdf", b"%PDF-1.4 eng"))
    auth.login("张伟")
    assert client.get(f"/items/{other_unit_item}").status_code == 403
    assert client.get(f"/items/{other_unit_item}/diagram").status_code == 403
    sha = item_detail(engine, other_unit_item)["evidence"][0]["sha256"]
    assert client.get(f"/items/{other_unit_item}/evidence/{sha}").status_code == 403
    gate = task_id(engine, other_unit_item, "unit_head_review")
    page = client.get(f"/tasks/{gate}")
    assert page.status_code == 403 and "赵敏" in page.get_data(as_text=True)
    posted = client.post(f"/tasks/{gate}", data={"decision": "approve", "password": PASSWORD,
                                                  "csrf_token": csrf_token(client, "/inbox")})
    assert posted.status_code == 403
    listing = client.get("/items").get_data(as_text=True)
    assert "测试问题1" in listing and "测试问题9" not in listing
    # A leader sees every unit's items.
    Auth(client).logout()
    Auth(client).login("陈刚")
    assert client.get(f"/items/{other_unit_item}").status_code == 200


def test_form_violating_its_schema_shows_field_messages_and_changes_nothing(client, auth, engine, item):
    auth.login("张伟")
    tid = task_id(engine, item, "fix_task")
    response = client.post(f"/tasks/{tid}", data={"measures": "已追回", "completed_on": "2026-02-30",
                                                  "csrf_token": csrf_token(client, f"/tasks/{tid}")})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "「整改结果」为必填项" in html and "「完成日期」不是有效日期" in html and "「佐证材料」至少需要 1 项" in html
    assert "已追回" in html  # what the user typed is kept
    assert task_id(engine, item, "fix_task") == tid

    # With an evidence file, still refused for the missing result: no row, no file, no audit entry.
    with engine.db.reading() as session:
        audit_rows = session.execute(select(func.count(AuditEntry.id))).scalar_one()
    with_file = client.post(f"/tasks/{tid}", content_type="multipart/form-data", data={
        "measures": "已追回", "completed_on": "2026-02-20", "evidence": (io.BytesIO(b"%PDF-1.4 refused"), "回单.pdf"),
        "csrf_token": csrf_token(client, f"/tasks/{tid}")})
    assert with_file.status_code == 400 and "「整改结果」为必填项" in with_file.get_data(as_text=True)
    with engine.db.reading() as session:
        assert session.execute(select(func.count(AuditEntry.id))).scalar_one() == audit_rows
        assert session.execute(select(func.count(EvidenceFile.id))).scalar_one() == 0
        assert session.execute(select(func.count(TaskRecord.id)).where(TaskRecord.completed_by.is_not(None))).scalar_one() == 0
    assert not engine.evidence.files.exists(hashlib.sha256(b"%PDF-1.4 refused").hexdigest())
    assert task_id(engine, item, "fix_task") == tid


def test_task_submission_with_evidence_then_sign_off_page(client, auth, engine, item):
    auth.login("张伟")
    tid = task_id(engine, item, "fix_task")
    data = dict(FIX, csrf_token=csrf_token(client, f"/tasks/{tid}"))
    data["evidence"] = (io.BytesIO(b"%PDF-1.4 receipt"), "银行回单.pdf")
    response = client.post(f"/tasks/{tid}", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "已办理：落实整改" in client.get("/inbox").get_data(as_text=True)
    Auth(client).logout()

    Auth(client).login("李娜")
    gate = task_id(engine, item, "unit_head_review")
    page = client.get(f"/tasks/{gate}").get_data(as_text=True)
    assert "签字即表示您对此负责" in page and "银行回单.pdf" in page and "SHA-256" in page
    assert "已追回违规发放的津贴" in page
    missing = client.post(f"/tasks/{gate}", data={"decision": "reject", "password": PASSWORD,
                                                   "csrf_token": csrf_token(client, f"/tasks/{gate}")})
    assert missing.status_code == 400 and "意见" in missing.get_data(as_text=True)
    wrong = client.post(f"/tasks/{gate}", data={"decision": "approve", "opinion": "同意", "password": "nope",
                                                 "csrf_token": csrf_token(client, f"/tasks/{gate}")})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "密码不正确" in page and "签字即表示您对此负责" in page
    assert 'value="approve" checked' in page and ">同意</textarea>" in page  # what the signer chose is kept
    ok = client.post(f"/tasks/{gate}", data={"decision": "reject", "opinion": "回单不清晰", "password": PASSWORD,
                                              "csrf_token": csrf_token(client, f"/tasks/{gate}")})
    assert ok.status_code == 302
    item_page = client.get(f"/items/{item}").get_data(as_text=True)
    assert "回单不清晰" in item_page and "退回" in item_page


def test_two_browsers_completing_one_task_one_sees_it_was_done(app, engine, item):
    first, second = app.test_client(), app.test_client()
    Auth(first).login("张伟")
    Auth(second).login("张伟")
    tid = task_id(engine, item, "fix_task")
    forms = []
    for client in (first, second):
        data = dict(FIX, csrf_token=csrf_token(client, f"/tasks/{tid}"))
        data["evidence"] = (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")
        forms.append(data)
    assert first.post(f"/tasks/{tid}", data=forms[0], content_type="multipart/form-data").status_code == 302
    late = second.post(f"/tasks/{tid}", data=forms[1], content_type="multipart/form-data")
    assert late.status_code == 409 and "该任务已由他人处理" in late.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in headers["Content-Security-Policy"]
    login = Auth(client).login("张伟")
    cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_and_where_the_secret_key_comes_from(engine, monkeypatch):
    settings = engine.settings  # the demo people are in its database
    monkeypatch.delenv("RECTIFY_SECRET_KEY", raising=False)
    generated = create_app({"RECTIFY_SETTINGS": settings}).secret_key
    key_file = settings.instance_path / "secret_key"
    assert key_file.read_text().strip() == generated and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert create_app({"RECTIFY_SETTINGS": settings}).secret_key == generated  # kept across restarts

    monkeypatch.setenv("RECTIFY_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("RECTIFY_SECURE_COOKIES", "1")
    app = create_app({"RECTIFY_SETTINGS": settings})
    assert app.secret_key == "from-the-environment"
    client = app.test_client()
    login = client.post("/login", data={"name": "张伟", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
                        base_url="https://localhost")
    cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_change_password(client, auth):
    auth.login("张伟")
    token = csrf_token(client, "/password")
    mismatch = client.post("/password", data={"old": PASSWORD, "new": "new-pass-123", "repeat": "other-123", "csrf_token": token})
    assert mismatch.status_code == 400 and "不一致" in mismatch.get_data(as_text=True)
    ok = client.post("/password", data={"old": PASSWORD, "new": "new-pass-123", "repeat": "new-pass-123", "csrf_token": token})
    assert ok.status_code == 302
    auth.logout()
    assert auth.login("张伟", "new-pass-123").status_code == 302


def test_diagram_marks_finished_and_current_steps(client, auth, engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    auth.login("张伟")
    data = client.get(f"/items/{item}/diagram").get_json()
    assert "<bpmn:definitions" in data["xml"]
    assert "fix_task" in data["done"] and data["current"] == ["unit_head_review"]


def test_item_history_shows_people_and_the_processs_own_events(client, auth, engine, item):
    from datetime import datetime, timedelta, timezone

    from engine.process.timers import tick

    tick(engine, datetime.now(timezone.utc) + timedelta(days=100))  # past deadline + 30 days: 问责 task
    close_immediate_item(engine, item)
    auth.login("张伟")
    html = client.get(f"/items/{item}").get_data(as_text=True)
    table = html.split('id="history"')[1].split("</table>")[0]
    rows = [re.sub(r"<[^>]+>", "|", row) for row in table.split("<tr")[2:]]
    steps = [next(cell for cell in row.split("|")[2:] if cell.strip()) for row in rows]
    assert steps == ["开始整改", "超期转红灯", "落实整改", "审核", "签字销号", "已销号", "整改结束", "问责处理"]
    assert "系统" in rows[1] and "流程事件" in rows[1] and "已撤销（流程结束）" in rows[-1]
    assert "审核结果" not in table  # gateways repeat the decisions; they are left out


def test_evidence_over_the_size_limit_is_refused_with_the_limit_named(engine):
    from dataclasses import replace

    settings = replace(engine.settings, max_evidence_bytes=4096)  # on the same database, demo people in it
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": settings})
    engine = app.extensions["rectify"]
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    client = app.test_client()
    Auth(client).login("张伟")
    tid = task_id(engine, item, "fix_task")
    big = dict(FIX, csrf_token=csrf_token(client, f"/tasks/{tid}"),
               evidence=(io.BytesIO(b"%PDF-1.4 " + b"x" * 5000), "大文件.pdf"))
    response = client.post(f"/tasks/{tid}", data=big, content_type="multipart/form-data")
    assert response.status_code == 400 and "「大文件.pdf」超过 4 KB 的上限" in response.get_data(as_text=True)
    assert task_id(engine, item, "fix_task") == tid
    # Beyond what the server reads at all (several files' worth): a page that says so, not a crash.
    huge = dict(FIX, csrf_token=csrf_token(client, f"/tasks/{tid}"),
                evidence=(io.BytesIO(b"%PDF-1.4 " + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)), "巨大.pdf"))
    response = client.post(f"/tasks/{tid}", data=huge, content_type="multipart/form-data")
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)
