"""巡察轮次 through Flask's test client: who may create, import and export; the upload → preview →
confirm import; the export download; the dashboard figures; the progress report page and PDF."""
import io
import re

import pytest
from helpers import new_round
from ledger_fixture import ASPECTS, HEADER, PROBLEMS, close_allowances, ledger_rows, ledger_xlsx, workbook_bytes
from openpyxl import load_workbook
from web_session import Auth, csrf_token

import engine.access.rounds as round_access
from engine.ledger.detail import item_detail
from engine.ledger.items import list_items
from engine.ledger.rounds import get_round, list_rounds
from web.charts import bars

ROUND = "测试轮次"
OFFICE, OFFICER, LEADER = "周婷", "张伟", "陈刚"


@pytest.fixture
def round_id(engine):
    new_round(engine, ROUND)
    return get_round(engine, ROUND)["id"]


def as_user(client, name):
    Auth(client).login(name)
    return client


def upload(client, round_id, data: bytes, name="整改台账.xlsx", token=True):
    form = {"file": (io.BytesIO(data), name)}
    if token:
        form["csrf_token"] = csrf_token(client, "/rounds")
    return client.post(f"/rounds/{round_id}/import", data=form, content_type="multipart/form-data")


def sha_of(html: str) -> str:
    return re.search(r'name="sha256" value="([0-9a-f]{64})"', html).group(1)


def confirm(client, round_id, sha):
    return client.post(f"/rounds/{round_id}/import/confirm",
                       data={"sha256": sha, "csrf_token": csrf_token(client, "/rounds")})


def imported(client, round_id):
    as_user(client, OFFICE)
    response = confirm(client, round_id, sha_of(upload(client, round_id, ledger_xlsx()).get_data(as_text=True)))
    assert response.status_code == 302
    return client


def uploads(engine) -> list:
    """The ledgers kept for a confirmation, whichever store holds them (entries have a .name)."""
    return list(engine.uploads.entries())


GETS = ["/rounds", "/rounds/1", "/rounds/1/edit", "/rounds/1/import", "/rounds/1/export.xlsx", "/dashboard",
        "/rounds/1/dashboard", "/rounds/1/report", "/rounds/1/report.html", "/rounds/1/report.pdf"]
POSTS = ["/rounds", "/rounds/1/edit", "/rounds/1/import", "/rounds/1/import/confirm"]


@pytest.mark.parametrize("url", GETS)
def test_anonymous_users_are_sent_to_login(client, round_id, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", POSTS)
def test_anonymous_posts_are_sent_to_login(client, round_id, url):
    response = client.post(url, data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", POSTS)
def test_posts_without_csrf_token_are_refused(client, engine, round_id, url):
    as_user(client, OFFICE)
    response = client.post(url, data={"name": "另一轮次", "group": "组", "body": "处", "feedback_date": "2026-01-05",
                                      "sha256": "0" * 64})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert [r["name"] for r in list_rounds(engine)] == [ROUND]


def test_an_officer_may_view_but_not_create_edit_import_or_export(client, engine, round_id):
    as_user(client, OFFICER)
    listing = client.get("/rounds").get_data(as_text=True)
    assert ROUND in listing and "新建轮次" not in listing
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "导入台账" not in page and "导出台账" not in page and "统计" in page
    token = csrf_token(client, "/rounds")
    created = client.post("/rounds", data={"name": "另一轮次", "group": "市委第一巡察组", "body": "市政工程管理处",
                                           "feedback_date": "2026-01-05", "csrf_token": token})
    assert created.status_code == 403 and "整改办" in created.get_data(as_text=True)
    for url in (f"/rounds/{round_id}/edit", f"/rounds/{round_id}/import", f"/rounds/{round_id}/export.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/rounds/{round_id}/edit", data={"name": "改名", "csrf_token": token}).status_code == 403
    assert upload(client, round_id, ledger_xlsx()).status_code == 403
    assert confirm(client, round_id, "a" * 64).status_code == 403
    for url in (f"/rounds/{round_id}/dashboard", "/dashboard", f"/rounds/{round_id}/report"):
        assert client.get(url).status_code == 200, url
    assert [r["name"] for r in list_rounds(engine)] == [ROUND] and list_items(engine) == [] and uploads(engine) == []


def test_a_leader_may_export_but_not_import(client, round_id):
    as_user(client, LEADER)
    assert client.get(f"/rounds/{round_id}/export.xlsx").status_code == 200
    assert client.get(f"/rounds/{round_id}/import").status_code == 403


def test_office_creates_a_round_and_a_bad_form_names_each_field(client, engine):
    as_user(client, OFFICE)
    assert "新建轮次" in client.get("/rounds").get_data(as_text=True)
    token = csrf_token(client, "/rounds")
    bad = client.post("/rounds", data={"name": "", "group": "市委第一巡察组", "body": "", "feedback_date": "2026-02-30",
                                       "inspection_start": "2026-03-01", "inspection_end": "2026-02-01",
                                       "csrf_token": token})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for message in ("「轮次名称」不能为空", "「被巡察单位」不能为空", "「反馈日期」应为 YYYY-MM-DD", "巡察结束日期不能早于开始日期"):
        assert message in html
    assert 'value="市委第一巡察组"' in html  # what the user typed is kept
    assert list_rounds(engine) == []
    good = client.post("/rounds", data={"name": "2026年第一轮巡察", "group": "市委第一巡察组", "body": "市政工程管理处",
                                        "inspection_start": "2026-01-05", "inspection_end": "2026-02-28",
                                        "feedback_date": "2026-03-20", "csrf_token": token})
    assert good.status_code == 302
    page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "已新建巡察轮次「2026年第一轮巡察」" in page and "2026-01-05 至 2026-02-28" in page and "导入问题台账" in page


def test_office_edits_the_round_and_its_report_text(client, engine, round_id):
    as_user(client, OFFICE)
    token = csrf_token(client, f"/rounds/{round_id}/edit")
    form = {"name": ROUND, "group": "市委第三巡察组", "body": "市政工程管理处", "inspection_start": "2026-01-05",
            "inspection_end": "2026-02-28", "feedback_date": "2026-03-20",
            "report_practices": "成立整改工作领导小组。\n逐项建立问题、任务、责任清单。", "report_next_steps": "持续抓好长效机制建设。",
            "report_contact": "0571-12345678", "report_issuer": "中共市政工程管理处委员会", "report_date": "2026-06-30",
            "csrf_token": token}
    bad = client.post(f"/rounds/{round_id}/edit", data=form | {"report_date": "六月底"})
    assert bad.status_code == 400 and "「发布日期」应为 YYYY-MM-DD" in bad.get_data(as_text=True)
    assert get_round(engine, round_id)["report_practices"] == ""
    assert client.post(f"/rounds/{round_id}/edit", data=form).status_code == 302
    saved = get_round(engine, round_id)
    assert saved["report_practices"] == "成立整改工作领导小组。\n逐项建立问题、任务、责任清单。"
    assert (saved["inspection_start"], saved["report_date"]) == ("2026-01-05", "2026-06-30")
    report = client.get(f"/rounds/{round_id}/report").get_data(as_text=True)
    assert "成立整改工作领导小组。" in report and "中共市政工程管理处委员会" in report and "2026年6月30日" in report


def _bad_ledger() -> bytes:
    rows = ledger_rows()
    rows[2]["整改类别"] = "马上就改"  # sheet row 5 (a title row, then the header)
    rows[4]["整改时限"] = "下个月"  # row 7
    rows[6]["责任人"] = ""  # row 9
    return workbook_bytes(rows)


def test_a_bad_ledger_shows_every_problem_by_row_and_column_and_writes_nothing(client, engine, round_id):
    as_user(client, OFFICE)
    response = upload(client, round_id, _bad_ledger())
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "台账未导入：发现 3 处问题，未写入任何数据" in html
    for row, column in ((5, "整改类别"), (7, "整改时限"), (9, "责任人")):
        assert f"第{row}行「{column}」" in html
    assert "马上就改" in html and "下个月" in html
    assert 'name="sha256"' not in html  # nothing to confirm
    not_a_workbook = upload(client, round_id, b"just some text", name="台账.xlsx")
    assert not_a_workbook.status_code == 400 and "文件不是有效的 Excel 工作簿" in not_a_workbook.get_data(as_text=True)
    empty = upload(client, round_id, b"")
    assert empty.status_code == 400 and "请选择要导入的台账文件" in empty.get_data(as_text=True)
    assert list_items(engine) == [] and uploads(engine) == []


def test_a_ledger_over_the_size_limit_is_refused(client, engine, round_id, monkeypatch):
    monkeypatch.setattr(round_access, "MAX_LEDGER_BYTES", 1024)
    as_user(client, OFFICE)
    response = upload(client, round_id, ledger_xlsx())
    assert response.status_code == 400 and "台账文件过大" in response.get_data(as_text=True)
    assert uploads(engine) == []


def test_a_good_ledger_previews_then_imports_on_confirmation(client, engine, round_id):
    as_user(client, OFFICE)
    preview = upload(client, round_id, ledger_xlsx())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "新建 <strong>25</strong> 个问题（8 个方面）" in html
    for _aspect, title, *_ in PROBLEMS:
        assert title in html
    assert "质量安全科" in html and "林涛" in html  # a new unit and a new person (names un-padded)
    assert "需管理员设置密码后方可登录" in html
    assert list_items(engine) == []  # a preview writes nothing to the database
    sha = sha_of(html)
    assert [p.name for p in uploads(engine)] == [sha]

    forged = confirm(client, round_id, "../../secret_key")
    assert forged.status_code == 400 and list_items(engine) == []
    assert confirm(client, round_id, "b" * 64).status_code == 404

    queued = confirm(client, round_id, sha)  # a background job; here (outbox inline) done by the redirect
    assert queued.status_code == 302 and f"/rounds/{round_id}/imports/" in queued.headers["Location"]
    done = client.get(queued.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/rounds/{round_id}")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "台账已导入：新建问题 25 个" in page and "需管理员设置密码后方可登录" in page
    for aspect in ASPECTS:
        assert aspect in page
    assert re.search(r'id="round-total">25<', page)
    items = list_items(engine, ROUND)
    assert len(items) == 25 and all(item_detail(engine, i["id"])["open_tasks"] for i in items[:3])

    again = confirm(client, round_id, sha)  # the same file twice: every 序号 is now taken
    assert again.status_code == 400 and "序号「1」在轮次「测试轮次」中已存在" in again.get_data(as_text=True)
    assert len(list_items(engine, ROUND)) == 25


def test_export_downloads_the_ledger_as_xlsx(client, round_id):
    imported(client, round_id)
    response = client.get(f"/rounds/{round_id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"] and ".xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["序号", "方面", "问题"] and "状态" in header and "灯色" in header
    assert sheet.max_row == 26


def figure(html: str, name: str) -> str:
    return re.search(rf'id="{name}">([^<]*)<', html).group(1)


def test_dashboard_shows_the_figures_and_charts(client, engine, round_id):
    imported(client, round_id)
    html = client.get(f"/rounds/{round_id}/dashboard").get_data(as_text=True)
    assert (figure(html, "total"), figure(html, "closed"), figure(html, "rate")) == ("25", "0", "0.0%")
    overdue = [p for p in PROBLEMS if p[6] < 0]
    assert figure(html, "overdue") == str(len(overdue))
    for _aspect, title, *_rest, days, _style in overdue:
        assert f"{title}</a>" in html
    assert "40 天" in html  # the item 40 days past its deadline
    assert html.count("<svg") == 5 and "目标 95.0%" in html and "#c62828" in html  # with the weekly trend
    assert 'id="trend-chart"' in html and "按计划应不多于" in html
    assert re.search(r'data-light="红">1<', html) and re.search(r'data-light="已销号">0<', html)

    close_allowances(engine, ROUND)
    html = client.get(f"/rounds/{round_id}/dashboard").get_data(as_text=True)
    assert (figure(html, "closed"), figure(html, "rate")) == ("1", "4.0%")
    assert re.search(r'data-light="已销号">1<', html) and figure(html, "avg-days") != "—"
    everything = client.get("/dashboard").get_data(as_text=True)
    assert "全部轮次" in everything and 'id="by-round"' in everything and figure(everything, "closed") == "1"


def test_an_officer_sees_the_body_wide_figures_but_only_own_units_overdue_items(client, engine, round_id):
    imported(client, round_id)
    Auth(client).logout()
    as_user(client, OFFICER)  # 张伟, 财务科
    html = client.get(f"/rounds/{round_id}/dashboard").get_data(as_text=True)
    overdue = [p for p in PROBLEMS if p[6] < 0]
    assert figure(html, "overdue") == str(len(overdue))  # the figure stays body-wide
    own = [p[1] for p in overdue if p[3] == "财务科"]
    others = [p[1] for p in overdue if p[3] != "财务科"]
    assert others, "the fixture must have another unit's overdue item for this test to mean anything"
    table = html.split('id="overdue"')[1].split("</table>")[0]
    assert all(f"{title}</a>" in table for title in own)
    assert not any(title in table for title in others)
    assert "超期问题（财务科）" in html


def as_published(title: str) -> str:
    """A title as the report's headings quote it: inner quotes become ‘’, a trailing 问题 is dropped."""
    return title.removesuffix("问题").replace("“", "‘").replace("”", "’")


def test_report_page_lists_the_published_problems_and_the_pdf_downloads(client, engine, round_id):
    rows = ledger_rows()
    rows[8]["是否公开"] = "否"
    as_user(client, OFFICE)
    html = upload(client, round_id, workbook_bytes(rows, HEADER + ["是否公开"])).get_data(as_text=True)
    assert confirm(client, round_id, sha_of(html)).status_code == 302
    close_allowances(engine, ROUND)
    Auth(client).logout()

    as_user(client, OFFICER)  # the published report is for everyone
    page = client.get(f"/rounds/{round_id}/report").get_data(as_text=True)
    assert "巡察反馈意见整改进展情况的通报" in page and "下载 PDF" in page
    for _aspect, title, *_ in PROBLEMS[:8] + PROBLEMS[9:]:
        assert f"关于“{as_published(title)}”问题的整改情况" in page
    assert PROBLEMS[8][1] not in page  # marked not for publication
    assert "目前，该问题已完成整改。" in page and "<script" not in page.split('id="report"')[1]
    standalone = client.get(f"/rounds/{round_id}/report.html")
    assert standalone.mimetype == "text/html" and standalone.get_data(as_text=True).startswith("<!DOCTYPE html>")
    assert "default-src 'self'" in standalone.headers["Content-Security-Policy"]
    pdf = client.get(f"/rounds/{round_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]


def test_unknown_round_is_404(client):
    as_user(client, OFFICE)
    for url in ("/rounds/99", "/rounds/99/dashboard", "/rounds/99/report", "/rounds/99/edit"):
        assert client.get(url).status_code == 404, url


def test_chart_labels_are_escaped():
    svg = str(bars([("<b>科</b>", 3, "#2e7d32")], "图"))
    assert "&lt;b&gt;科&lt;/b&gt;" in svg and "<b>" not in svg and 'fill="#2e7d32"' in svg


def test_office_edits_the_aspects_and_a_bad_row_changes_nothing(client, engine, round_id):
    imported(client, round_id)
    from engine.ledger.aspects import list_aspects

    before = list_aspects(engine, round_id)
    page = client.get(f"/rounds/{round_id}/aspects").get_data(as_text=True)
    assert all(a["title"] in page for a in before) and "新增方面" in page
    first, second = before[0], before[1]
    form = {"csrf_token": csrf_token(client, f"/rounds/{round_id}/aspects"), "aspect": [str(a["id"]) for a in before]}
    for n, a in enumerate(before, start=1):
        form |= {f"position-{a['id']}": str(n), f"title-{a['id']}": a["title"]}
    bad = client.post(f"/rounds/{round_id}/aspects", data=form | {f"position-{second['id']}": "第二"})
    assert bad.status_code == 400 and "顺序「第二」不是正整数" in bad.get_data(as_text=True)
    assert list_aspects(engine, round_id) == before

    saved = client.post(f"/rounds/{round_id}/aspects", data=form | {
        f"position-{first['id']}": "2", f"position-{second['id']}": "1",
        f"title-{first['id']}": "（一）贯彻落实上级决策部署不够到位（改）", "title-new": "（九）新增的方面"})
    assert saved.status_code == 302
    after = [(a["title"], a["item_count"]) for a in list_aspects(engine, round_id)]
    assert after[:2] == [(second["title"], second["item_count"]), ("（一）贯彻落实上级决策部署不够到位（改）", first["item_count"])]
    assert after[-1] == ("（九）新增的方面", 0)
    assert "（九）新增的方面" in client.get(f"/rounds/{round_id}").get_data(as_text=True)
    new_id = list_aspects(engine, round_id)[-1]["id"]
    page = client.get(f"/rounds/{round_id}/aspects").get_data(as_text=True)
    assert page.count('type="checkbox" name="delete-') == 1 and f'name="delete-{new_id}"' in page  # only the empty one

    Auth(client).logout()
    as_user(client, OFFICER)
    assert client.get(f"/rounds/{round_id}/aspects").status_code == 403
    refused = client.post(f"/rounds/{round_id}/aspects", data=form | {"csrf_token": csrf_token(client, "/inbox")})
    assert refused.status_code == 403 and [a["title"] for a in list_aspects(engine, round_id)][-1] == "（九）新增的方面"
