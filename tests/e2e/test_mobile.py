"""Real headless Chromium as a phone (390×844, touch): the officer completes an 立行立改 task with two
photos, the unit head and the leader sign it off, and the item page shows it closed — every page fits
the screen (no sideways scrolling). Screenshots: tests/e2e/screenshots/phone-*.png."""
import re

from browser_session import login
from helpers import PASSWORD
from page_checks import FITS, open_menu

# Two tiny valid PNG photos (1×1 pixel, different colours: two pieces of evidence, not one twice).
RED_DOT = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
                        "0000000c4944415408d763f8cfc00000030101001800dd8d0000000049454e44ae426082")
BLUE_DOT = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d76360"
                         "60f80f00010301004f5cd8c30000000049454e44ae426082")


def fits(page) -> None:
    assert page.evaluate(FITS), f"{page.url} scrolls sideways"


def sign_out(page) -> None:
    open_menu(page)
    page.click("#main-nav button:has-text('退出')")
    page.wait_for_url(re.compile(r".*/login$"))


def open_first_card(page) -> None:
    card = page.locator("#inbox tbody tr").first
    assert card.evaluate("tr => getComputedStyle(tr).display") == "grid"  # a card, not a table row
    card.locator(".cell-action a").tap()
    page.wait_for_url(re.compile(r".*/tasks/.+"))
    fits(page)


def sign_on_phone(page, decision, opinion, shot=None):
    decide = page.locator(f"label[for=decision-{decision}]")
    assert decide.bounding_box()["height"] >= 44 and decide.bounding_box()["width"] >= 300  # a thumb's target
    decide.tap()
    assert page.is_checked(f"#decision-{decision}")
    page.fill("#opinion", opinion)
    page.fill("#password", PASSWORD)
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.locator("button:has-text('签字')").tap()
    page.wait_for_url(re.compile(r".*/inbox$"))
    fits(page)


def test_an_item_closed_by_three_people_on_their_phones(live_world, phone, screenshots, tmp_path):
    url, _engine, item, _ = live_world
    photos = [tmp_path / "现场照片1.png", tmp_path / "现场照片2.png"]
    photos[0].write_bytes(RED_DOT)
    photos[1].write_bytes(BLUE_DOT)
    page = phone

    page.goto(url + "/login")
    fits(page)
    login(page, url, "张伟")
    fits(page)
    assert page.locator("#main-nav").is_hidden()  # the links wait behind the menu button
    card = page.locator("#inbox tbody tr").first
    assert re.fullmatch(r"● 绿灯 · 正常推进", card.locator(".light").inner_text())  # the light says what it means
    due = card.locator(".cell-due")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", due.inner_text())
    assert due.evaluate("td => getComputedStyle(td, '::before').content") == '"期限："'  # labelled on the card
    page.screenshot(path=str(screenshots / "phone-inbox.png"))
    open_menu(page)
    assert page.locator("#main-nav a:has-text('整改台账')").is_visible()
    page.screenshot(path=str(screenshots / "phone-menu.png"))
    page.keyboard.press("Escape")
    assert page.locator("#main-nav").is_hidden()

    open_first_card(page)
    evidence = page.locator("#f-evidence")
    assert evidence.get_attribute("multiple") is not None and "image/*" in evidence.get_attribute("accept")
    camera = page.locator("#f-evidence-camera")
    assert camera.get_attribute("capture") == "environment"
    assert page.locator("label[for=f-evidence-camera]").is_visible()  # 拍照, on a touch screen
    page.fill("#f-measures", "追回违规发放的交通补贴并完善审批")
    page.fill("#f-result", "已全部追回，附现场照片")
    page.fill("#f-completed_on", "2026-11-20")
    page.set_input_files("#f-evidence", [str(p) for p in photos])
    assert page.inner_text(".file-names") == "2 个文件：现场照片1.png、现场照片2.png"
    # A screenshot of the screen, not full_page: Chromium drops the touch emulation (and 拍照) for those.
    page.evaluate("() => window.scrollTo(0, document.querySelector('#f-completed_on').getBoundingClientRect().top"
                  " + window.scrollY - 200)")
    page.screenshot(path=str(screenshots / "phone-task.png"))
    fits(page)
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.locator("button:has-text('提交')").tap()
    assert posted.value.resource_type == "xhr"  # sent with the upload progress bar
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert "已办理：落实整改" in page.inner_text(".alert-success")
    fits(page)
    sign_out(page)

    login(page, url, "李娜")
    open_first_card(page)
    work = page.inner_text(".reviewed-work")
    assert "现场照片1.png" in work and "现场照片2.png" in work
    # The signer sees the two photos themselves, not only their names (thumbnails served by the app)
    thumbs = page.locator(".reviewed-work img.evidence-thumb")
    assert thumbs.count() == 2
    for n in range(2):
        thumbs.nth(n).scroll_into_view_if_needed()
        thumbs.nth(n).evaluate("img => img.complete || new Promise((ok) => img.addEventListener('load', ok))")
        assert thumbs.nth(n).evaluate("img => img.naturalWidth") == 1  # the 1×1 photo, decoded
    sign_on_phone(page, "approve", "照片清楚，同意", shot=screenshots / "phone-signoff.png")
    sign_out(page)

    login(page, url, "陈刚")
    open_first_card(page)
    sign_on_phone(page, "approve", "同意销号")
    assert "该问题已销号" in page.inner_text(".alert-success")

    page.goto(f"{url}/items/{item}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.inner_text("#item-status") == "已销号"
    zoom = page.evaluate("() => document.querySelector('#diagram .viewport').getAttribute('transform')")
    page.locator("[data-zoom=in]").tap()
    assert page.evaluate("() => document.querySelector('#diagram .viewport').getAttribute('transform')") != zoom
    history = page.locator("#history tbody tr")
    assert history.count() >= 5 and history.first.evaluate("tr => getComputedStyle(tr).display") == "block"
    assert "陈刚" in page.inner_text("#signatures") and "同意销号" in page.inner_text("#signatures")
    page.screenshot(path=str(screenshots / "phone-item.png"), full_page=True)
    fits(page)

    page.goto(f"{url}/notifications")
    fits(page)
    page.screenshot(path=str(screenshots / "phone-notifications.png"), full_page=True)
