"""Real headless Chromium: an officer asks for an extension on the item page, the leader approves it
on the sign-off page, and the item page shows the new deadline and the change in its history."""
import re
from datetime import timedelta

from browser_session import NO_OVERFLOW, login, logout
from helpers import DEADLINE, PASSWORD

LATER = (DEADLINE + timedelta(days=45)).isoformat()


def test_an_extension_asked_by_the_officer_and_approved_by_the_leader(live_world, page, screenshots):
    url, engine, item, _ = live_world
    login(page, url, "张伟")
    page.goto(f"{url}/items/{item}")
    page.click("#request-change")
    page.check("#kind-extend")
    page.fill("#r-deadline", LATER)
    page.click("button:has-text('提交申请')")
    assert "「理由」不能为空" in page.inner_text("#change-form")  # refused, naming the field
    page.fill("#r-reason", "配套资金下月到位，无法按期完成")
    page.screenshot(path=str(screenshots / "change-request.png"), full_page=True)
    page.click("button:has-text('提交申请')")
    page.wait_for_url(re.compile(rf".*/items/{item}.*"))
    assert "待分管领导审批" in page.inner_text("#change-list")
    logout(page)

    login(page, url, "陈刚")
    assert "审批变更" in page.inner_text("#inbox")
    page.click("#inbox tbody tr:first-child a.btn")
    page.wait_for_load_state()
    work = page.inner_text(".reviewed-work")
    assert "配套资金下月到位" in work and LATER in work
    page.screenshot(path=str(screenshots / "change-approval.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)
    page.check("label[for=decision-approve]")
    page.fill("#opinion", "同意延期")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('签字')")
    page.wait_for_url(re.compile(r".*/inbox$"))

    page.goto(f"{url}/items/{item}")
    fields = page.inner_text(".item-fields")
    assert LATER in fields
    assert "已批准" in page.inner_text("#change-list") and "同意延期" in page.inner_text("#change-list")
    history = page.inner_text("#history")
    assert "变更申请" in history and "审批变更" in history
    page.screenshot(path=str(screenshots / "item-after-change.png"), full_page=True)
