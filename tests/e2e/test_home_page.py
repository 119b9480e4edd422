"""The served page in a real browser: Chinese renders, the demo ledger is there."""
from engine.demo import install_demo



def test_home_page_shows_the_demo_ledger(live_server, page, screenshots):
    url, engine = live_server
    install_demo(engine)
    page.goto(url + "/")
    assert page.title() == "整改流程引擎"
    rows = page.locator("tbody tr")
    assert rows.count() == 5
    assert "违规发放津贴补贴" in rows.first.inner_text()
    page.screenshot(path=str(screenshots / "home.png"), full_page=True)
    # Nothing overflows the 1366px viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
