"""Real headless Chromium: a 退回 reaches the officer's notification centre with the signer's opinion,
and opening it takes them to the task and lowers the unread count."""
import re

from browser_session import NO_OVERFLOW, login
from helpers import FIX, do, sign
from helpers import evidence as upload


def test_a_return_appears_in_the_officers_notification_centre(live_world, page, screenshots):
    url, engine, item, _ = live_world
    do(engine, item, "fix_task", "张伟", FIX, files=upload())
    sign(engine, item, "unit_head_review", "李娜", "reject", "回单不清晰，请补充盖章版本")
    login(page, url, "张伟")
    assert page.inner_text("#unread-count") == "2"  # the first 待办, and the 退回
    page.click("#nav-notifications")
    notices = page.locator("#notifications li")
    assert "回单不清晰，请补充盖章版本" in notices.first.inner_text() and "退回" in notices.first.inner_text()
    # the 退回 leads to the task waiting again; the first 待办's task is done, so it offers only its item
    assert [notices.nth(n).locator("button").inner_text() for n in (0, 1)] == ["去办理", "查看"]
    page.screenshot(path=str(screenshots / "notifications.png"), full_page=True)
    assert page.evaluate(NO_OVERFLOW)
    notices.first.locator("button").click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    assert "回单不清晰" in page.inner_text("#returned")
    assert page.inner_text("#unread-count") == "1"
    page.goto(f"{url}/notifications")
    page.click("#read-all")
    assert page.locator("#unread-count").count() == 0 and page.inner_text("#unread-total") == "0"
