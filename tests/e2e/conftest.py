"""A live server and headless Chromium (Debian's, driven by Playwright; no browser download)."""
import threading
from pathlib import Path

import pytest
from helpers import DEADLINE, FEEDBACK, people
from page_checks import PHONE
from werkzeug.serving import make_server

from engine.ledger.items import NewItem, add_item
from engine.ledger.rounds import add_round
from engine.store.models import IMMEDIATE
from web import create_app

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def live_server(sqlite_engine):
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": sqlite_engine.settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app.extensions["rectify"]
    server.shutdown()


@pytest.fixture
def live_cast(live_server):
    """The live server with the demo people (helpers.people): (url, engine)."""
    url, engine = live_server
    people(engine)
    return url, engine


@pytest.fixture
def live_world(live_cast, tmp_path):
    """The live server with the demo people, the round 2026年第三轮巡察 and its 立行立改 item 违规发放津贴补贴
    (张伟 of 财务科, 陈刚 leading), and a bank receipt to upload: (url, engine, item id, folder of 银行回单.pdf)."""
    url, engine = live_cast
    add_round(engine, "2026年第三轮巡察", "市委第三巡察组", "市政工程管理处", FEEDBACK)
    item = add_item(engine, "2026年第三轮巡察", NewItem(
        number="1", title="违规发放津贴补贴", category=IMMEDIATE, unit="财务科", person="张伟", leader="陈刚",
        deadline=DEADLINE, aspect="（一）贯彻落实上级决策部署不到位", description="2025年违规发放交通补贴。"))["id"]
    receipt = tmp_path / "银行回单.pdf"
    receipt.write_bytes(b"%PDF-1.4 bank receipt")
    return url, engine, item, tmp_path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshots() -> Path:
    """Where the e2e suite leaves its screenshots (git-ignored) for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def phone(browser):
    """A page in a phone-sized, touch, mobile-emulating browser context."""
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    yield page
    context.close()
