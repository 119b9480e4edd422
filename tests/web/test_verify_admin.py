"""The public /verify page, closure records and signature chains on the item page, and /admin,
through Flask's test client."""
import io
import json
import re

import pytest
from helpers import close_immediate_item, new_item, new_round, without_triggers
from web_session import Auth, csrf_token

from engine.closure.records import document_file, item_closure_documents
from engine.closure.signing import init_dev_certificate
from engine.store.models import IMMEDIATE

OWN, OTHER, OPEN = "财务科的已销号问题", "工程管理科的已销号问题", "财务科的整改中问题"


def build_closed_world(engine) -> dict:
    """A development certificate, a closed item of 财务科 and one of 工程管理科, each with its record, and
    an open item: their ids by name."""
    init_dev_certificate(engine, "市政工程管理处", actor="tests")
    new_round(engine)
    items = {OWN: new_item(engine, IMMEDIATE, number="1"),
             OTHER: new_item(engine, IMMEDIATE, number="2", unit="工程管理科", person="王强"),
             OPEN: new_item(engine, IMMEDIATE, number="3")}
    close_immediate_item(engine, items[OWN], "张伟", "李娜", opinions=("材料齐全，同意", "同意销号"))
    close_immediate_item(engine, items[OTHER], "王强", "赵敏", opinions=("材料齐全，同意", "同意销号"))
    return items


@pytest.fixture(autouse=True)
def items(engine, saved_states):
    """Every test here starts from the closed world, built once per run and database (it renders and signs
    two PDFs) and copied into the test's own database."""
    return saved_states.use(engine, "closed_world", build_closed_world)


def record(engine, item_id) -> tuple[dict, bytes]:
    return document_file(engine, item_closure_documents(engine, item_id)[0]["id"])


def upload(client, content: bytes, name="销号单.pdf"):
    return client.post("/verify", data={"file": (io.BytesIO(content), name), "csrf_token": csrf_token(client, "/verify")},
                       content_type="multipart/form-data")


def text(response) -> str:
    return response.get_data(as_text=True)


# --- /verify --------------------------------------------------------------------------------------------

def test_verify_is_public_and_a_genuine_record_passes(client, engine, items):
    page = client.get("/verify")
    assert page.status_code == 200 and "验证销号单" in text(page) and 'name="csrf_token"' in text(page)
    view, pdf = record(engine, items[OWN])
    response = upload(client, pdf)
    html = text(response)
    assert response.status_code == 200
    assert 'data-ok="true"' in html and re.search(r'id="verdict-word">通过<', html)
    assert "市政工程管理处开发用签名证书" in html and "（北京时间）" in html
    assert view["verification_code"] in html and view["sha256"] in html
    assert "测试轮次" in html and "第 1 号：测试问题1" in html and "已销号" in html
    for check in ("数字签名", "签名证书", "登记", "与数据库一致", "个人签名"):
        assert f'data-check="{check}"' in html
    assert html.count("text-bg-success\">一致") == 5 and "签字 2 个、佐证材料 1 份" in html
    assert "2 个签字均由签字人本人的密钥签署（李娜、陈刚）" in html


def test_one_flipped_byte_fails_with_a_reason(client, engine, items):
    _, pdf = record(engine, items[OWN])
    changed = bytearray(pdf)
    changed[len(pdf) // 2] ^= 0x01
    response = upload(client, bytes(changed))
    html = text(response)
    assert response.status_code == 200  # an answer, not an error
    assert 'data-ok="false"' in html and re.search(r'id="verdict-word">未通过<', html)
    assert "文件在签署后被改动" in html and "SHA-256 不同" in html


@pytest.mark.parametrize("content, name, reason", [
    (b"", "空文件.pdf", "文件是空的"),
    ("这是一份会议纪要".encode("utf-8"), "会议纪要.txt.pdf", "改了扩展名"),
    (b"PK\x03\x04" + b"\0" * 2000, "台账.pdf", "不是 PDF"),
    (b"%PDF-1.7\n" + b"\0" * (20 * 1024 * 1024), "巨大.pdf", "不超过 5 MB"),
])
def test_garbage_is_refused_with_a_clear_message(client, content, name, reason):
    response = upload(client, content, name)
    html = text(response)
    assert response.status_code == 400 and reason in html and 'id="verify-error"' in html
    assert "Traceback" not in html and 'id="verdict"' not in html


def test_no_file_chosen_and_a_damaged_pdf(client):
    token = csrf_token(client, "/verify")
    none = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    assert none.status_code == 400 and "请选择要核验的销号单" in text(none)
    damaged = upload(client, b"%PDF-1.7\n1 0 obj <<")  # a PDF, but not one anyone can read: an answer
    assert damaged.status_code == 200 and "未通过" in text(damaged) and "无法解析为 PDF" in text(damaged)


def test_an_upload_larger_than_the_server_takes_gets_the_verify_page(app, client):
    token = csrf_token(client, "/verify")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.post("/verify", data={"file": (io.BytesIO(b"%PDF-" + b"\0" * 2 * 1024 * 1024), "大.pdf"),
                                            "csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 413 and "文件过大" in text(response) and 'id="verify-form"' in text(response)


def test_verify_needs_the_csrf_token_and_keeps_nothing(client, engine, items):
    _, pdf = record(engine, items[OWN])
    forged = client.post("/verify", data={"file": (io.BytesIO(pdf), "x.pdf")}, content_type="multipart/form-data")
    assert forged.status_code == 400 and "CSRF" in text(forged)
    before = sorted(p for p in engine.settings.instance_path.rglob("*"))
    assert upload(client, pdf).status_code == 200
    assert upload(client, b"%PDF-1.7 not really").status_code == 200
    assert sorted(p for p in engine.settings.instance_path.rglob("*")) == before


# --- the item page: closure records and the signature chain ----------------------------------------------

@pytest.mark.parametrize("path", ["/items/{id}/closure/1.pdf", "/items/{id}/signatures.json", "/admin"])
def test_anonymous_users_are_sent_to_login(client, items, path):
    response = client.get(path.format(id=items[OWN]))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_own_units_record_and_signature_chain_download(client, auth, engine, items):
    auth.login("张伟")
    view, pdf = record(engine, items[OWN])
    page = text(client.get(f"/items/{items[OWN]}"))
    assert 'id="closure"' in page and view["verification_code"] in page and view["sha256"] in page
    link = f"/items/{items[OWN]}/closure/{view['id']}.pdf"
    assert f'id="latest-closure" href="{link}"' in page and f"/items/{items[OWN]}/signatures.json" in page
    assert 'id="generate-closure"' not in page  # an officer cannot make a new record

    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/pdf" and download.data == pdf
    assert "attachment" in download.headers["Content-Disposition"]

    chain = client.get(f"/items/{items[OWN]}/signatures.json")
    data = json.loads(chain.data)
    assert chain.status_code == 200 and chain.mimetype == "application/json"
    assert data["chain_ok"] and data["count"] == 2 and [s["signer"]["name"] for s in data["signatures"]] == ["李娜", "陈刚"]


def test_another_units_record_and_chain_are_403(client, auth, engine, items):
    auth.login("张伟")
    other = item_closure_documents(engine, items[OTHER])[0]["id"]
    for path in (f"/items/{items[OTHER]}/closure/{other}.pdf", f"/items/{items[OTHER]}/signatures.json"):
        response = client.get(path)
        assert response.status_code == 403 and "其他单位" in text(response), path
    # Another item's record under one's own item is not found, and nothing leaks.
    assert client.get(f"/items/{items[OWN]}/closure/{other}.pdf").status_code == 404
    Auth(client).logout()
    Auth(client).login("王强")
    assert client.get(f"/items/{items[OTHER]}/closure/{other}.pdf").status_code == 200


def test_the_office_makes_a_new_record_and_the_old_one_is_kept(client, auth, engine, items):
    auth.login("张伟")
    refused = client.post(f"/items/{items[OWN]}/closure", data={"csrf_token": csrf_token(client, f"/items/{items[OWN]}")})
    assert refused.status_code == 403 and "整改办" in text(refused)
    Auth(client).logout()

    Auth(client).login("周婷")
    page = text(client.get(f"/items/{items[OWN]}"))
    assert 'id="generate-closure"' in page and "重新生成" in page
    made = client.post(f"/items/{items[OWN]}/closure", data={"csrf_token": csrf_token(client, f"/items/{items[OWN]}")})
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/items/{items[OWN]}#closure")
    documents = item_closure_documents(engine, items[OWN])
    assert len(documents) == 2
    page = text(client.get(f"/items/{items[OWN]}"))
    assert "已生成新的销号单" in page and documents[0]["verification_code"] in page and documents[1]["verification_code"] in page
    # An item still being worked on has no record and offers none.
    open_page = text(client.get(f"/items/{items[OPEN]}"))
    assert 'id="closure-pending"' in open_page and 'id="generate-closure"' not in open_page
    too_early = client.post(f"/items/{items[OPEN]}/closure", data={"csrf_token": csrf_token(client, "/inbox")})
    assert too_early.status_code == 409 and "尚未销号" in text(too_early)


# --- /admin ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["张伟", "周婷", "陈刚"])
def test_admin_is_403_for_everyone_but_the_administrator(client, auth, name):
    auth.login(name)
    response = client.get("/admin")
    assert response.status_code == 403 and "管理员" in text(response)
    assert 'id="nav-admin"' not in text(client.get("/inbox"))


def test_admin_shows_the_certificate_the_audit_chain_and_counts(client, auth):
    auth.login("孙浩")
    assert 'id="nav-admin"' in text(client.get("/inbox"))
    html = text(client.get("/admin"))
    assert "市政工程管理处开发用签名证书" in html and 'data-status="有效"' in html
    assert 'id="certificate-warning"' in html and "开发用自签名证书" in html and "rectify signing use" in html
    assert re.search(r'id="certificate-fingerprint">[0-9a-f]{64}<', html) and re.search(r"剩余 7[23]\d 天", html)
    assert re.search(r'id="audit-status">完整<', html)
    assert re.search(r'id="count-items">3<', html) and re.search(r'id="count-documents">2<', html)
    assert re.search(r'id="count-users">9<', html)


def test_admin_shows_a_broken_audit_chain(client, auth, engine):
    without_triggers(engine, "audit_log", "UPDATE audit_log SET actor = '某人' WHERE id = 3")
    auth.login("孙浩")
    html = text(client.get("/admin"))
    assert re.search(r'id="audit-status">异常<', html)
    assert "自第 3 行起" in html and "第 3 行内容与其哈希不符（已被篡改）" in html
