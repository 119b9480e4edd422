"""What a round gives back, on SQLite and PostgreSQL: the ledger export (and its round trip), the
dashboard figures, and the public progress report (整改进展情况公布) as PDF."""
import re
import zipfile
from io import BytesIO

from helpers import FEEDBACK, new_round, pdf_text
from ledger_fixture import (
    ALLOWANCES,
    ASPECTS,
    FLAGS,
    HEADER,
    HIDDEN,
    TODAY,
    close_allowances,
    ledger_rows,
    workbook_bytes,
)
from openpyxl import load_workbook
from pypdf import PdfReader

from engine.ledger.items import list_items
from engine.ledger.rounds import update_round_report_text
from engine.ledger.xlsx.export import export_ledger
from engine.ledger.xlsx.importing import apply_import
from engine.reports.dashboard import dashboard
from engine.reports.progress import progress_report, render_progress_html, render_progress_pdf
from engine.store.models import Item

ROUND = "测试轮次"


FIELDS = ("number", "aspect", "title", "category", "unit", "person", "leader", "deadline", "needs_third_party", "publish")


def test_export_then_import_into_a_new_round_reproduces_the_items(staffed_round):
    engine = staffed_round
    rows = ledger_rows()
    rows[0]["问题"], rows[1]["问题描述"], rows[2]["完成标准"] = "=SUM(A1)", '=HYPERLINK("http://x","点我")', "+1-1"
    for row in rows:
        row["是否公开"] = "否" if row["序号"] in (4, 9) else "是"
        row["需第三方评估"] = "是" if row["序号"] in (5, 10) else "否"  # 限期整改 items: its path has the step
    apply_import(engine, ROUND, workbook_bytes(rows, HEADER + FLAGS))

    exported = export_ledger(engine, ROUND)
    sheet = load_workbook(BytesIO(exported)).active
    header = [c.value for c in sheet[1]]
    assert header[-5:] == ["状态", "灯色", "当前环节", "销号日期", "最后签字人"]
    title = sheet.cell(row=2, column=header.index("问题") + 1)
    assert (title.value, title.data_type) == ("=SUM(A1)", "s")  # text, not a formula
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
    with zipfile.ZipFile(BytesIO(exported)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    first = dict(zip(header, [c.value for c in sheet[2]]))
    assert (first["状态"], first["当前环节"], first["整改时限"]) == ("整改中", "制定整改方案", rows[0]["整改时限"].date().isoformat())

    new_round(engine, "复制轮次")
    apply_import(engine, "复制轮次", exported)
    original, copy = list_items(engine, ROUND), list_items(engine, "复制轮次")
    assert len(copy) == 25
    for a, b in zip(original, copy):
        assert {f: a[f] for f in FIELDS} == {f: b[f] for f in FIELDS}
    with engine.db.reading() as session:
        pairs = [(session.get(Item, a["id"]), session.get(Item, b["id"])) for a, b in zip(original, copy)]
        assert [(x.description, x.standard) for x, _ in pairs] == [(y.description, y.standard) for _, y in pairs]
    assert copy[0]["title"] == "=SUM(A1)" and [c["publish"] for c in copy].count(False) == 2


def test_closing_an_item_moves_the_dashboard_and_shows_in_the_export(imported):
    engine = imported
    before = dashboard(engine, ROUND)
    assert (before["total"], before["closed"], before["closing_rate"], before["meets_target"]) == (25, 0, 0.0, False)
    assert before["lights"] == {"绿": 19, "蓝": 3, "黄": 2, "红": 1, "已销号": 0}
    assert [(o["title"], o["days_overdue"], o["light"]) for o in before["overdue_items"]] == [
        (HIDDEN, 40, "红"), ("工程项目档案资料缺失", 12, "黄"), ("廉政风险点排查不全面", 10, "黄")]
    assert before["average_days_to_close"] is None
    assert {c["category"]: c["total"] for c in before["by_category"]} == {"立行立改": 8, "限期整改": 11, "长效治理": 6}

    close_allowances(engine, ROUND)
    after = dashboard(engine, ROUND)
    assert (after["total"], after["closed"], after["closing_rate"], after["closing_rate_text"]) == (25, 1, 0.04, "4.0%")
    assert after["lights"]["已销号"] == 1 and after["lights"]["蓝"] == before["lights"]["蓝"] - 1
    assert next(c for c in after["by_category"] if c["category"] == "立行立改")["closed"] == 1
    finance = next(u for u in after["by_unit"] if u["unit"] == "财务科")
    assert (finance["total"], finance["closed"], finance["overdue"]) == (6, 1, 0)
    assert after["average_days_to_close"] == (TODAY - FEEDBACK).days
    everything = dashboard(engine)
    assert everything["round"] is None and [(r["round"]["name"], r["closed"]) for r in everything["by_round"]] == [(ROUND, 1)]

    sheet = load_workbook(BytesIO(export_ledger(engine, ROUND))).active
    header = [c.value for c in sheet[1]]
    row = next(dict(zip(header, [c.value for c in r])) for r in sheet.iter_rows(min_row=2) if r[2].value == ALLOWANCES)
    assert (row["状态"], row["灯色"], row["当前环节"], row["销号日期"], row["最后签字人"]) == (
        "已销号", "已销号", "已办结", TODAY.isoformat(), "陈刚")


def test_progress_report_lists_published_problems_under_their_aspects(imported):
    engine = imported
    close_allowances(engine, ROUND)
    update_round_report_text(engine, ROUND, report_practices="一是压实整改责任。\n二是建立问题、任务、责任“三张清单”。",
                             report_next_steps="持续抓好未完成事项的整改。", report_contact="电话 0571-12345678")
    report = progress_report(engine, ROUND)
    assert [s["heading"] for s in report["sections"]] == ["一、整改主要做法", "二、问题整改进展情况", "三、下一步工作打算"]
    assert report["counts"] == {"published": 24, "已完成整改": 1, "已完成整改，长期坚持": 0, "正在整改中": 23}
    html = render_progress_html(report)
    assert "<script" not in html and HIDDEN not in html

    text = pdf_text(render_progress_pdf(report), squeeze=True)
    assert text.startswith("市政工程管理处关于市委第三巡察组巡察反馈意见整改进展情况的通报")
    assert f"{FEEDBACK.year}年{FEEDBACK.month}月{FEEDBACK.day}日，市委第三巡察组向市政工程管理处反馈了巡察意见" in text
    assert "截至" in text and "24个问题中，已完成整改1个，正在整改23个" in text
    assert HIDDEN not in text
    # Every published problem, under its aspect, in ledger order, each followed by its status.
    published = [i for i in list_items(engine, ROUND) if i["publish"]]
    markers, k = [], 0  # (text, status expected in the stretch that follows, or None for an aspect heading)
    for n, aspect in enumerate(ASPECTS, start=1):
        markers.append((f"（{'一二三四五六七八'[n - 1]}）{aspect[3:]}", None))
        for item in [i for i in published if i["aspect"] == aspect]:
            k += 1  # numbered straight through the report, 1–24, under the aspect headings
            title = item["title"].replace("“", "‘").replace("”", "’")
            markers.append((f"{k}.关于“{title}”问题的整改情况。", "已完成整改" if item["title"] == ALLOWANCES else "正在整改中"))
    markers.append(("三、下一步工作打算", None))
    positions, at = [], text.index("二、问题整改进展情况")
    for marker, _ in markers:
        at = text.index(marker, at)
        positions.append(at)
    for (marker, status), start, end in zip(markers, positions, positions[1:]):
        if status:
            assert f"目前，该问题{status}。" in text[start:end], marker
    assert len([m for m in markers if m[1]]) == 24
    assert "逐项清理2023年以来发放的津贴补贴" in text and "欢迎广大干部群众" in text
    assert text.rstrip().endswith(f"市政工程管理处{TODAY.year}年{TODAY.month}月{TODAY.day}日")


def test_progress_report_pdf_is_a4_in_cjk_fonts_with_page_numbers(imported):
    pdf = render_progress_pdf(progress_report(imported, ROUND))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:  # A4 is 595 × 842 points
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert fonts and all("CJK" in f for f in fonts), fonts
    pages = [pdf_text(pdf, page=n) for n in range(1, len(reader.pages) + 1)]
    for n, text in enumerate(pages, start=1):
        assert re.search(rf"—\s*{n}\s*—", text), f"page {n} has no page number"
