"""Real headless Chromium: an 立行立改 item from login to 已销号 as three people, and the refusals
people meet. Screenshots of every page land in tests/e2e/screenshots/ (git-ignored)."""
import re

from browser_session import NO_OVERFLOW, login, logout
from helpers import DEADLINE, PASSWORD, task_id

from engine.ledger.detail import item_detail
from engine.ledger.items import NewItem, add_item
from engine.people.directory import add_user
from engine.store.models import IMMEDIATE


def open_first_task(page):
    page.click("#inbox tbody tr:first-child a.btn")
    page.wait_for_load_state()


def fill_fix(page, receipt, result):
    page.fill("#f-measures", "追回违规发放的交通补贴并完善审批")
    page.fill("#f-result", result)
    page.fill("#f-completed_on", "2026-11-20")
    if receipt:
        picker = page.locator(".file-picker").filter(has=page.locator("#f-evidence"))
        assert picker.inner_text().split() == ["选择文件", "未选择文件"]  # not the browser's English button
        page.set_input_files("#f-evidence", str(receipt))
        assert picker.locator(".file-names").inner_text() == receipt.name


def sign(page, decision, opinion):
    page.check(f"label[for=decision-{decision}]")  # the large 通过 / 退回 button over the radio input
    page.fill("#opinion", opinion)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('签字')")
    page.wait_for_url(re.compile(r".*/inbox$"))


def test_immediate_item_from_login_to_closed_by_three_people(live_world, page, screenshots):
    url, engine, item, folder = live_world
    login(page, url, "张伟")
    assert page.inner_text("#inbox-count") == "1"
    assert "落实整改" in page.inner_text("#inbox")
    page.screenshot(path=str(screenshots / "inbox.png"))
    assert page.evaluate(NO_OVERFLOW)
    open_first_task(page)
    assert "请立即落实整改" in page.inner_text(".instructions")
    page.screenshot(path=str(screenshots / "task.png"), full_page=True)
    fill_fix(page, folder / "银行回单.pdf", "已全部追回")
    page.click("button:has-text('提交')")
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert "已办理：落实整改" in page.inner_text(".alert-success")
    assert page.inner_text("#inbox-count") == "0"
    logout(page)

    login(page, url, "李娜")
    assert "审核" in page.inner_text("#inbox") and "去签字" in page.inner_text("#inbox")
    open_first_task(page)
    assert "签字即表示您对此负责" in page.inner_text("#consequence")
    assert "银行回单.pdf" in page.inner_text(".reviewed-work") and "SHA-256" in page.inner_text(".reviewed-work")
    page.screenshot(path=str(screenshots / "signoff.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)
    sign(page, "reject", "回单不清晰，请补充盖章版本")
    logout(page)

    login(page, url, "张伟")
    open_first_task(page)
    assert "回单不清晰，请补充盖章版本" in page.inner_text("#returned")
    assert page.input_value("#f-result") == "已全部追回"  # the returned task comes back filled in
    page.fill("#f-result", "已全部追回，补充盖章回单")
    page.click("button:has-text('提交')")
    page.wait_for_url(re.compile(r".*/inbox$"))
    logout(page)

    login(page, url, "李娜")
    open_first_task(page)
    assert "回单不清晰" in page.inner_text(".signatures")
    sign(page, "approve", "同意")
    logout(page)

    login(page, url, "陈刚")
    open_first_task(page)
    sign(page, "approve", "同意销号")
    assert "该问题已销号" in page.inner_text(".alert-success")
    page.goto(f"{url}/items/{item}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.inner_text("#item-status") == "已销号"
    signatures = page.inner_text("#signatures")
    for text in ("李娜", "陈刚", "退回", "同意销号"):
        assert text in signatures
    assert page.locator("#diagram .djs-element.done").count() >= 3
    page.screenshot(path=str(screenshots / "item.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)


def test_a_review_of_ones_own_work_goes_to_someone_else(live_world, page):
    """A small unit whose head is also the responsible person: after 钱进 submits, the review is not
    in his inbox (审签与经办分离) — it went to 整改办 — and opening it directly names who holds it."""
    url, engine, _item, folder = live_world
    add_user(engine, "钱进", "档案室", ["责任人", "责任单位负责人"], PASSWORD)
    own = add_item(engine, "2026年第三轮巡察", NewItem(number="2", title="档案资料缺失", category=IMMEDIATE, unit="档案室",
                                                     person="钱进", leader="陈刚", deadline=DEADLINE))["id"]
    login(page, url, "钱进")
    open_first_task(page)
    fill_fix(page, folder / "银行回单.pdf", "已补齐")
    page.click("button:has-text('提交')")
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert "档案资料缺失" not in page.inner_text("main")
    review = task_id(engine, own, "unit_head_review")
    response = page.goto(f"{url}/tasks/{review}")
    assert response.status == 403 and "周婷" in page.inner_text("main")
    logout(page)
    login(page, url, "周婷")
    page.goto(f"{url}/tasks/{review}")
    assert page.locator("#own-work").count() == 0  # 周婷 did none of the work under review
    page.check("label[for=decision-approve]")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('签字')")
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert item_detail(engine, own)["open_tasks"][0]["bpmn_id"] == "leader_signoff"


def test_forbidden_file_type_is_refused_with_a_message(live_world, page):
    url, _engine, _item, folder = live_world
    bad = folder / "脚本.exe"
    bad.write_bytes(b"MZ not a document")
    login(page, url, "张伟")
    open_first_task(page)
    fill_fix(page, bad, "已追回")
    page.click("button:has-text('提交')")
    page.wait_for_selector("#form-error")  # the file goes up in the background (files.js), then the answer shows
    assert "类型不允许" in page.inner_text(".field[data-field=evidence]")
    assert page.input_value("#f-result") == "已追回"
