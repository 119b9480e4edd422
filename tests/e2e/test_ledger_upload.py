"""Real headless Chromium: 整改办 creates a round, uploads its ledger, reads the preview, confirms, and
watches the dashboard; when an item is closed the closed count and 销号率 change. Screenshots of the
round page, the preview (good and refused), the dashboard and the progress report land in
tests/e2e/screenshots/ (git-ignored)."""
import re

import pytest
from browser_session import NO_OVERFLOW, login
from helpers import FEEDBACK
from ledger_fixture import PROBLEMS, close_allowances, ledger_rows, ledger_xlsx, workbook_bytes

from engine.ledger.items import list_items

ROUND = "市委第三巡察组对市政工程管理处巡察反馈"


@pytest.fixture
def ledgers(tmp_path):
    """The fixture ledger as a file, and a copy with three mistakes: (good, bad)."""
    good, bad = tmp_path / "巡察反馈问题整改台账.xlsx", tmp_path / "有错的台账.xlsx"
    good.write_bytes(ledger_xlsx())
    rows = ledger_rows()
    rows[2]["整改类别"], rows[4]["整改时限"], rows[6]["责任人"] = "马上就改", "下个月底", ""
    bad.write_bytes(workbook_bytes(rows))
    return good, bad


def shoot(page, screenshots, name, full_page=True):
    page.screenshot(path=str(screenshots / name), full_page=full_page)
    assert page.evaluate(NO_OVERFLOW), f"{name} overflows horizontally"


def create_round(page, url):
    page.goto(url + "/rounds")
    form = page.locator("#new-round")
    form.locator("#r-name").fill(ROUND)
    form.locator("#r-group").fill("市委第三巡察组")
    form.locator("#r-body").fill("市政工程管理处")
    form.locator("#r-inspection_start").fill("2026-01-05")
    form.locator("#r-inspection_end").fill("2026-02-28")
    form.locator("#r-feedback_date").fill(FEEDBACK.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/rounds/\d+$"))
    assert "已新建巡察轮次" in page.inner_text(".alert-success")
    return int(page.url.rsplit("/", 1)[1])


def write_report_text(page, url, round_id, screenshots):
    page.goto(f"{url}/rounds/{round_id}/edit")
    page.fill("#r-report_practices", "处党委把巡察整改作为重大政治任务，成立由党委书记任组长的整改工作领导小组，"
                                     "召开专题民主生活会，逐项建立问题清单、任务清单、责任清单。\n"
                                     "坚持边查边改、立行立改，对能够立即整改的问题即知即改。")
    page.fill("#r-report_next_steps", "持续抓好后续整改，对已完成的整改任务适时组织“回头看”，巩固整改成果。")
    page.fill("#r-report_contact", "0571-87654321，电子邮箱 zgb@szgc.example.gov.cn")
    shoot(page, screenshots, "round-edit.png")
    page.click("button:has-text('保存')")
    page.wait_for_url(re.compile(rf".*/rounds/{round_id}$"))


def test_office_uploads_a_ledger_confirms_it_and_watches_the_dashboard(live_cast, ledgers, page, screenshots):
    url, engine = live_cast
    good, bad = ledgers
    login(page, url, "周婷")
    page.click("nav >> text=巡察轮次")
    round_id = create_round(page, url)
    write_report_text(page, url, round_id, screenshots)

    page.click("#round-actions >> text=导入台账")
    shoot(page, screenshots, "ledger-upload.png")
    page.set_input_files("#ledger-file", str(bad))
    page.click("button:has-text('上传并预览')")
    assert "发现 3 处问题，未写入任何数据" in page.inner_text("#refused")
    problems = page.inner_text("#problems")
    for where in ("第5行", "第7行", "第9行", "整改类别", "整改时限", "责任人"):
        assert where in problems
    shoot(page, screenshots, "ledger-refused.png")

    page.click("a:has-text('重新上传')")
    page.set_input_files("#ledger-file", str(good))
    page.click("button:has-text('上传并预览')")
    assert "新建 25 个问题（8 个方面）" in page.inner_text("#plan-summary")
    assert "质量安全科" in page.inner_text("#new-units")
    assert "需管理员设置密码后方可登录" in page.inner_text("#new-people")
    assert page.locator("#plan-items tr.item-row").count() == 25
    assert page.locator("#plan-items tr.aspect-row").count() == 8
    shoot(page, screenshots, "ledger-preview.png")
    assert list_items(engine, ROUND) == []

    page.click("#confirm-import")
    page.wait_for_url(re.compile(rf".*/rounds/{round_id}$"))
    assert "台账已导入：新建问题 25 个" in page.inner_text(".alert-success")
    assert page.inner_text("#round-total") == "25"
    assert page.locator("#aspects tbody tr").count() == 8
    shoot(page, screenshots, "round.png")

    page.click("#edit-aspects")  # 方面: add one more heading after the eight of the ledger
    assert page.locator("#aspect-rows tbody tr").count() == 9  # eight, and the blank row for a new one
    counts = [page.locator("#aspect-rows tbody tr").nth(i).locator("td").nth(2).inner_text() for i in range(8)]
    assert sum(int(c) for c in counts) == 25
    page.fill("input[name=title-new]", "（九）意识形态工作责任制落实不到位")
    shoot(page, screenshots, "aspects.png")
    page.click("#aspects-form button:has-text('保存')")
    page.wait_for_url(re.compile(rf".*/rounds/{round_id}$"))
    assert page.locator("#aspects tbody tr").count() == 9
    assert "（九）意识形态工作责任制落实不到位" in page.inner_text("#aspects")

    page.click("nav >> text=巡察轮次")
    row = page.locator("#rounds tbody tr", has_text=ROUND).inner_text()
    assert "25" in row and "0.0%" in row
    shoot(page, screenshots, "rounds.png")
    page.go_back()

    page.click("#round-actions >> text=统计")
    page.wait_for_url(re.compile(rf".*/rounds/{round_id}/dashboard$"))
    assert (page.inner_text("#total"), page.inner_text("#closed"), page.inner_text("#rate")) == ("25", "0", "0.0%")
    assert page.locator("#overdue tbody tr").count() == sum(1 for p in PROBLEMS if p[6] < 0)

    close_allowances(engine, ROUND)
    page.reload()
    assert (page.inner_text("#closed"), page.inner_text("#rate")) == ("1", "4.0%")
    assert page.inner_text("#lights [data-light=已销号]") == "1"
    assert page.locator("svg.chart").count() == 5  # 销号率, the weekly trend, lights, categories, units
    shoot(page, screenshots, "dashboard.png")
    page.set_viewport_size({"width": 1366, "height": 768})
    shoot(page, screenshots, "dashboard-top.png", full_page=False)

    page.goto(f"{url}/rounds/{round_id}/report")
    report = page.inner_text("#report")
    assert "一、整改主要做法" in report and "关于“违规发放津贴补贴”问题的整改情况" in report
    assert "目前，该问题已完成整改。" in report
    shoot(page, screenshots, "report.png", full_page=False)
    with page.expect_download() as download:
        page.click("#pdf-link")
    assert download.value.suggested_filename.endswith("整改进展情况公布.pdf")


def test_all_rounds_dashboard_for_a_leader(live_cast, ledgers, page, screenshots):
    url, engine = live_cast
    good, _bad = ledgers
    from engine.ledger.rounds import add_round
    from engine.ledger.xlsx.importing import apply_import

    add_round(engine, ROUND, "市委第三巡察组", "市政工程管理处", FEEDBACK)
    apply_import(engine, ROUND, good.read_bytes())
    login(page, url, "陈刚")
    page.click("nav >> text=统计")
    assert page.inner_text("#scope") == "全部轮次"
    assert page.inner_text("#total") == "25"
    assert ROUND in page.inner_text("#by-round")
    shoot(page, screenshots, "dashboard-all.png")
