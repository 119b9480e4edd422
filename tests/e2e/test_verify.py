"""Real headless Chromium: a closed item's closure record downloaded from its page, then checked on
the public /verify page without logging in (genuine → 通过, one changed byte → 未通过); the admin page.
Screenshots land in tests/e2e/screenshots/ (git-ignored)."""
import json
import re

import pytest
from browser_session import NO_OVERFLOW, login, logout
from helpers import close_immediate_item, evidence

from engine.closure.signing import init_dev_certificate

BODY = "市政工程管理处"


@pytest.fixture
def closed(live_world):
    """The walk's item, closed after one return, with its signed record."""
    url, engine, item, folder = live_world
    init_dev_certificate(engine, BODY, actor="tests")
    receipt = evidence("银行回单.pdf", (folder / "银行回单.pdf").read_bytes())
    close_immediate_item(engine, item, returns=["回单不清晰，请补充盖章版本"], files=[receipt],
                         opinions=("材料齐全，同意", "同意销号"))
    return url, engine, item, folder


def verify(page, url, path):
    page.goto(url + "/verify")
    page.set_input_files("#file", str(path))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verdict")


def test_a_downloaded_record_verifies_anonymously_and_a_tampered_copy_does_not(closed, page, screenshots):
    url, _engine, item, folder = closed
    login(page, url, "张伟")
    page.goto(f"{url}/items/{item}")
    section = page.locator("#closure")
    assert "最新" in section.inner_text() and "下载 PDF" in section.inner_text()
    assert page.locator("#generate-closure").count() == 0  # only 整改办 and 管理员 make new records
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "item-closure.png"))
    assert page.evaluate(NO_OVERFLOW)

    with page.expect_download() as pdf_download:
        section.locator("a:has-text('下载 PDF')").first.click()
    assert pdf_download.value.suggested_filename.startswith("销号单_") and pdf_download.value.suggested_filename.endswith(".pdf")
    genuine = folder / "downloaded.pdf"
    pdf_download.value.save_as(genuine)
    with page.expect_download() as json_download:
        page.click("#signatures-json")
    chain = json.loads(open(json_download.value.path(), encoding="utf-8").read())
    assert chain["chain_ok"] and [s["opinion"] for s in chain["signatures"]][-1] == "同意销号"
    logout(page)

    # Anyone, not logged in.
    page.goto(url + "/verify")
    assert page.locator("#no-result").is_visible() and page.locator("text=登录").first.is_visible()
    verify(page, url, genuine)
    assert page.inner_text("#verdict-word") == "通过"
    assert BODY in page.inner_text("#signer") and "北京时间" in page.inner_text("#signing-time")
    assert "违规发放津贴补贴" in page.inner_text("#item") and re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page.inner_text("#code"))
    assert page.locator("#checks .badge.text-bg-success").count() == 5  # the 5th: each signer's own key
    assert "均由签字人本人的密钥签署" in page.inner_text("#checks")
    page.screenshot(path=str(screenshots / "verify-pass.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)

    data = bytearray(genuine.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = folder / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    verify(page, url, tampered)
    assert page.inner_text("#verdict-word") == "未通过"
    assert "改动" in page.inner_text("[data-check=数字签名]") and "SHA-256 不同" in page.inner_text("[data-check=登记]")
    page.screenshot(path=str(screenshots / "verify-fail.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)

    (folder / "notes.pdf").write_text("这不是 PDF", encoding="utf-8")
    page.set_input_files("#file", str(folder / "notes.pdf"))
    page.click("#verify-form button[type=submit]")
    assert "这不是 PDF 文件" in page.inner_text("#verify-error")
    page.screenshot(path=str(screenshots / "verify-error.png"))


def test_the_admin_page(closed, page, screenshots):
    url, _engine, _item, _folder = closed
    login(page, url, "孙浩")
    page.click("#nav-admin")
    page.wait_for_url(re.compile(r".*/admin$"))
    assert page.inner_text("#certificate-status") == "有效" and "开发用自签名证书" in page.inner_text("#certificate-warning")
    assert page.inner_text("#audit-status") == "完整" and page.inner_text("#count-documents") == "1"
    page.screenshot(path=str(screenshots / "admin.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)
