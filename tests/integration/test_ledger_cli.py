"""`rectify ledger import/export`, `rounds report-text`, `report progress`, `dashboard` (SQLite)."""
import json

from ledger_fixture import ledger_rows, ledger_xlsx, workbook_bytes
from openpyxl import load_workbook

ROUND = "第二轮"


def setup_round(cli, tmp_path):
    cli("demo")
    cli("rounds", "add", ROUND, "--group", "市委第三巡察组", "--body", "市政工程管理处", "--feedback-date", "2026-10-20",
        "--inspection-start", "2026-08-01", "--inspection-end", "2026-09-30")
    path = tmp_path / "台账.xlsx"
    path.write_bytes(ledger_xlsx())
    return path


def test_import_dry_run_then_import_then_export(cli, tmp_path):
    ledger = setup_round(cli, tmp_path)
    dry = cli.json("ledger", "import", ledger, "--round", ROUND, "--dry-run")
    assert dry["dry_run"] and dry["ok"] and len(dry["items"]) == 25 and len(dry["new_people"]) == 6
    assert cli.json("items", "list", "--round", ROUND) == []

    text = cli("ledger", "import", ledger, "--round", ROUND).output
    assert "已导入 25 个问题（8 个方面）" in text and "新建人员 6 名" in text
    assert len(cli.json("items", "list", "--round", ROUND)) == 25

    again = cli("ledger", "import", ledger, "--round", ROUND, ok=False)
    assert again.exit_code == 1 and "第3行「序号」：序号「1」在轮次「第二轮」中已存在" in again.output
    assert again.output.rstrip().endswith("错误：台账有 25 处问题，未导入任何数据")

    out = tmp_path / "导出.xlsx"
    exported = cli.json("ledger", "export", "--round", ROUND, out)
    assert exported["id"] == 2 and out.exists()
    assert load_workbook(out).active.max_row == 26


def test_a_bad_ledger_is_refused_with_every_problem(cli, tmp_path):
    setup_round(cli, tmp_path)
    rows = ledger_rows()
    rows[0]["整改类别"], rows[4]["整改时限"] = "马上改", "尽快"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes(rows))
    result = cli("ledger", "import", bad, "--round", ROUND, "--json", ok=False)
    assert result.exit_code == 1 and result.stderr.strip() == "错误：台账有 2 处问题，未导入任何数据"
    problems = json.loads(result.stdout)["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(3, "整改类别"), (7, "整改时限")]
    assert cli.json("items", "list", "--round", ROUND) == []
    not_excel = tmp_path / "x.xlsx"
    not_excel.write_text("hello")
    refused = cli("ledger", "import", not_excel, "--round", ROUND, ok=False)
    assert "文件不是有效的 Excel 工作簿（.xlsx）" in refused.output and refused.exit_code == 1


def test_report_text_progress_report_and_dashboard(cli, tmp_path):
    setup_round(cli, tmp_path)
    cli("ledger", "import", tmp_path / "台账.xlsx", "--round", ROUND)
    practices = tmp_path / "做法.txt"
    practices.write_text("一是压实责任。\n二是建立台账。\n", encoding="utf-8")
    text = cli.json("rounds", "report-text", ROUND, "--practices-file", practices, "--next-steps", "持续整改。",
                    "--contact", "电话 0571-12345678", "--date", "2026-12-01")
    assert text["report_practices"] == "一是压实责任。\n二是建立台账。" and text["report_date"] == "2026-12-01"
    both = cli("rounds", "report-text", ROUND, "--practices", "x", "--practices-file", practices, ok=False)
    assert both.exit_code == 1 and "只能给出一个" in both.output
    assert cli.json("rounds", "lights", ROUND, "--red-days", "45") == {
        "id": text["id"], "name": ROUND, "blue_days": 7, "yellow_days": 0, "red_days": 45}
    assert "红灯（问责）：超期 45 天以上" in cli("rounds", "lights", ROUND).output
    refused = cli("rounds", "lights", ROUND, "--yellow-days", "50", ok=False)
    assert refused.exit_code == 1 and "黄灯的超期天数（50）应小于红灯的（45）" in refused.output

    html = tmp_path / "公布.html"
    assert cli.json("report", "progress", "--round", ROUND, "--out", html, "--html")["counts"]["published"] == 25
    page = html.read_text(encoding="utf-8")
    assert "一、整改主要做法" in page and "2026年12月1日" in page and "2026年8月1日至9月30日" in page
    pdf = tmp_path / "公布.pdf"
    cli("report", "progress", "--round", ROUND, "--out", pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    figures = cli.json("dashboard", "--round", ROUND)
    assert figures["id"] == 2 and figures["total"] == 25 and figures["target_rate"] == 0.95
    overall = cli("dashboard").output
    assert "全部轮次" in overall and "销号率" in overall and "按单位" in overall
