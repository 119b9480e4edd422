"""Accessibility (GB/T 37668, WCAG 2.x AA): axe-core over every page people reach, on a desktop screen
and on a phone, with no serious or critical violation; and a task and a sign-off done with the keyboard
alone. Screenshot: tests/e2e/screenshots/desktop-inbox.png."""
import re

import pytest
from helpers import DEADLINE, FIX, PASSWORD, close_immediate_item, do, evidence, task_id
from page_checks import CUT_PLACEHOLDERS, DESKTOP, FITS, PHONE, SQUEEZED, axe_violations, tab_to, type_date

from engine.ledger.items import NewItem, add_item
from engine.ledger.rounds import get_round
from engine.people.directory import user_id_of
from engine.reports.document_jobs import request_upward_pdf
from engine.store.models import IMMEDIATE

ROUND = "2026年第三轮巡察"


@pytest.fixture
def world(live_world):
    """The walk's round with three items of 财务科: the first awaiting 李娜's review, the second a fix in
    张伟's inbox, the third closed (signatures, history). Gives the URL and what the pages need."""
    url, engine, first, _folder = live_world
    do(engine, first, "fix_task", "张伟", FIX, files=evidence("银行回单.pdf"))

    def item(number, title):
        return add_item(engine, ROUND, NewItem(number=number, title=title, category=IMMEDIATE, unit="财务科",
                                               person="张伟", leader="陈刚", deadline=DEADLINE,
                                               aspect="（一）贯彻落实上级决策部署不到位"))["id"]

    second = item("2", "公务接待超标准")
    third = item("3", "固定资产账实不符")
    close_immediate_item(engine, third)
    round_id = get_round(engine, ROUND)["id"]
    return {"url": url, "review": task_id(engine, first, "unit_head_review"),
            "fix": task_id(engine, second, "fix_task"), "item": first, "closed": third,
            "round": round_id, "uid": user_id_of(engine, "张伟"),
            "job": request_upward_pdf(engine, round_id, "周婷")["id"]}  # the page of a report made in the background


# Who sees which pages (URL templates filled from the world); None: not signed in.
PAGES = [
    (None, ["/login", "/verify"]),
    ("张伟", ["/inbox", "/tasks/{fix}", "/items", "/items/{item}", "/items/{closed}", "/notifications", "/settings",
             "/password"]),
    ("李娜", ["/tasks/{review}"]),
    ("周婷", ["/rounds", "/rounds/{round}", "/rounds/{round}/edit", "/rounds/{round}/aspects", "/rounds/{round}/import",
             "/dashboard", "/rounds/{round}/dashboard", "/rounds/{round}/report", "/rounds/{round}/activities",
             "/rounds/{round}/lookbacks", "/rounds/{round}/upward/jobs/{job}", "/items/new", "/items/{item}/edit",
             "/items/{item}/change"]),
    ("孙浩", ["/admin", "/admin/users", "/admin/users/{uid}", "/designer/forms", "/designer/forms/immediate_fix"]),
]


def sign_in(page, url, name):
    page.context.clear_cookies()
    page.goto(url + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox$"))


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_every_page_passes_axe_on_a_desktop_and_on_a_phone(world, browser, screenshots, screen):
    # axe is injected as an inline script, which the pages' Content-Security-Policy would refuse.
    context = browser.new_context(locale="zh-CN", bypass_csp=True, **(DESKTOP if screen == "desktop" else PHONE))
    page = context.new_page()
    found = {}
    for who, paths in PAGES:
        if who:
            sign_in(page, world["url"], who)
        for path in paths:
            response = page.goto(world["url"] + path.format(**world))
            assert response.status == 200, path
            if page.locator("#diagram").count():
                page.wait_for_selector("#diagram[data-ready=true]")
            if screen == "desktop" and path == "/inbox":
                page.screenshot(path=str(screenshots / "desktop-inbox.png"))
            violations = axe_violations(page)
            if screen == "phone" and not page.evaluate(FITS):
                violations.append(f"scrolls sideways: {page.evaluate('document.documentElement.scrollWidth')} px")
            if screen == "phone":
                violations += page.evaluate(SQUEEZED)
            violations += [f"the hint of field {name} is cut off" for name in page.evaluate(CUT_PLACEHOLDERS)]
            if "<" in page.title():  # a template's markup leaked into the window's title
                violations.append(f"title is {page.title()[:60]!r}")
            if violations:
                found[path] = violations
    context.close()
    assert found == {}, "\n".join(f"{path}: {v}" for path, violations in found.items() for v in violations)


def test_a_task_and_a_sign_off_with_the_keyboard_alone(world, page, tmp_path):
    url = world["url"]
    receipt = tmp_path / "盖章回单.pdf"
    receipt.write_bytes(b"%PDF-1.4 stamped receipt")
    # Listening from the start turns on Playwright's interception of file dialogs in good time (it is
    # switched on without waiting for an answer when the first listener comes).
    page.on("filechooser", lambda chooser: None)

    def sign_in_by_keyboard(name):
        page.context.clear_cookies()
        page.goto(url + "/login")
        page.wait_for_function("document.activeElement.id === 'name'")  # the name field takes the focus itself
        page.keyboard.type(name)
        tab_to(page, "#password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/inbox$"))

    sign_in_by_keyboard("张伟")
    tab_to(page, f"tr[data-task='{world['fix']}'] a.btn")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/tasks/.+"))
    tab_to(page, "#f-measures")
    page.keyboard.type("退回超标准接待费用")
    tab_to(page, "#f-result")
    page.keyboard.type("已全部退回")
    tab_to(page, "#f-completed_on")
    type_date(page, "#f-completed_on", "2026-11-20")
    tab_to(page, "#f-evidence")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(receipt))  # the operating system's dialog, not the page
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert "已办理：落实整改" in page.inner_text("main")

    sign_in_by_keyboard("李娜")
    tab_to(page, f"tr[data-task='{world['review']}'] a.btn")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/tasks/.+"))
    tab_to(page, "#decision-approve")
    page.keyboard.press("Space")
    tab_to(page, "#opinion")
    page.keyboard.type("同意")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # the form's own button: 签字
    page.wait_for_url(re.compile(r".*/inbox$"))
    assert "已办理：审核" in page.inner_text("main")
