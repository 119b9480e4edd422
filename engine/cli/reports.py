"""rounds report-text, report progress, dashboard: what 整改办 publishes and watches."""
from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import emit, handled, main
from engine.cli.ledger import rounds
from engine.errors import InvalidInput
from engine.ledger.rounds import update_round_report_text
from engine.reports.dashboard import dashboard as dashboard_figures
from engine.reports.progress import progress_report, render_progress_html, write_progress_pdf
from engine.reports.upward import render_upward_docx, upward_report, write_upward_pdf


def _text_option(value: str | None, path: Path | None, option: str) -> str | None:
    if value is not None and path is not None:
        raise InvalidInput(f"--{option} 与 --{option}-file 只能给出一个")
    return path.read_text(encoding="utf-8") if path is not None else value


def _write(out: Path, write) -> None:
    """Write a PDF to `out` as it is made (never whole in memory); nothing is left behind if making it fails."""
    try:
        with out.open("wb") as file:
            write(file)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


@rounds.command("report-text")
@click.argument("round_name")
@click.option("--practices", help="一、整改主要做法（每段一行）")
@click.option("--practices-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="从 UTF-8 文本文件读取整改主要做法")
@click.option("--next-steps", help="三、下一步工作打算（每段一行）")
@click.option("--next-steps-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="从 UTF-8 文本文件读取下一步工作打算")
@click.option("--contact", help="联系方式，如 电话 0571-12345678；电子邮箱 …")
@click.option("--issuer", help="发布单位（默认：被巡察单位）")
@click.option("--date", "report_date", help="发布日期 YYYY-MM-DD（默认：生成当天）；给空字符串清除")
@click.option("--deploying-authority", help="部署机关，如 市委（「根据市委统一部署」）")
@click.option("--feedback-recipient", help="反馈对象（党组织），如 中共市政工程管理处委员会")
@click.option("--target", "close_target", help="销号率目标（%，默认 95）")
@click.option("--upward-recipient", help="整改情况报告的主送机关，如 市委巡察工作领导小组")
@click.option("--upward-due", help="整改情况报告报送时限 YYYY-MM-DD（默认：反馈之日起两个月）；给空字符串清除")
@click.option("--upward-sent-on", help="整改情况报告已报送的日期 YYYY-MM-DD；给空字符串清除")
@click.option("--upward-plan", help="整改方案总体情况：措施、领导小组、时间安排（每段一行）")
@click.option("--upward-plan-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="从 UTF-8 文本文件读取整改方案总体情况")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def rounds_report_text(ctx, round_name, practices, practices_file, next_steps, next_steps_file, contact, issuer,
                       report_date, deploying_authority, feedback_recipient, close_target, upward_recipient, upward_due,
                       upward_sent_on, upward_plan, upward_plan_file, as_json):
    """设置公布稿和整改情况报告的文字与要素；未给出的项保持不变。"""
    given = {
        "report_practices": _text_option(practices, practices_file, "practices"),
        "report_next_steps": _text_option(next_steps, next_steps_file, "next-steps"),
        "report_contact": contact, "report_issuer": issuer, "report_date": report_date,
        "deploying_authority": deploying_authority, "feedback_recipient": feedback_recipient,
        "close_target": close_target, "upward_recipient": upward_recipient, "upward_due": upward_due,
        "upward_sent_on": upward_sent_on, "upward_plan": _text_option(upward_plan, upward_plan_file, "upward-plan"),
    }
    result = update_round_report_text(ctx.engine(), round_name, actor="cli",
                                      **{k: v for k, v in given.items() if v is not None})
    emit(result, as_json, lambda r: "\n".join([
        f"轮次 {r['id']}：{r['name']}",
        f"  整改主要做法：{len(r['report_practices'])} 字",
        f"  下一步工作打算：{len(r['report_next_steps'])} 字",
        f"  联系方式：{r['report_contact'] or '—'}",
        f"  发布单位：{r['issuer']}  发布日期：{r['report_date'] or '生成当天（默认）'}",
        f"  部署机关：{r['deploying_authority'] or '—'}  反馈对象：{r['feedback_recipient'] or r['body'] + '（默认）'}"
        f"  销号率目标：{r['close_target']}%",
        f"  整改情况报告：主送 {r['upward_recipient'] or '—'}，报送时限 {r['upward_due_effective']}"
        f"，{'已于 ' + r['upward_sent_on'] + ' 报送' if r['upward_sent_on'] else '尚未报送'}",
    ]))


@main.group()
def report():
    """对外公布的报告。"""


@report.command("progress")
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path), help="输出文件")
@click.option("--html", "as_html", is_flag=True, help="写 HTML 而不是 PDF")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def report_progress(ctx, round_name, out, as_html, as_json):
    """生成轮次的整改进展情况公布（PDF，或 --html）。不公开的问题不列入。"""
    values = progress_report(ctx.engine(), round_name)
    if as_html:
        out.write_text(render_progress_html(values), encoding="utf-8")
    else:
        _write(out, lambda file: write_progress_pdf(values, file))
    counts = values["counts"]
    emit({"id": values["round"]["id"], "round": values["round"]["name"], "file": str(out),
          "format": "html" if as_html else "pdf", "counts": counts}, as_json,
         lambda r: f"已生成 {r['file']}：列入 {counts['published']} 个问题")


def _dashboard_text(d: dict) -> str:
    lines = [
        f"{d['scope']}（截至 {d['as_of']}）",
        f"  问题 {d['total']} 个，已销号 {d['closed']} 个，销号率 {d['closing_rate_text']}"
        f"（目标 {d['target_rate_text']}，{'已达标' if d['meets_target'] else '未达标'}），超期 {d['overdue']} 个",
        "  灯色：" + "  ".join(f"{light} {n}" for light, n in d["lights"].items()),
        "  平均销号用时：" + (f"{d['average_days_to_close']} 天（自反馈之日起）" if d["average_days_to_close"] is not None else "—"),
        f"  建章立制：{d['rules']} 项  回头看：{d['lookbacks']['checked']} 个，巩固 {d['lookbacks']['confirmed']} 个，"
        f"反弹 {d['lookbacks']['rebounded']} 个（反弹率 {d['lookbacks']['rebound_rate_text']}）",
    ] + ([f"  整改情况报告：报送时限 {d['upward_report']['due']}，{d['upward_report']['text']}"] if d["upward_report"] else []) + [

        "  按类别：",
    ]
    lines += [f"    {c['category']}  共 {c['total']}  销号 {c['closed']}  超期 {c['overdue']}  销号率 {c['closing_rate_text']}"
              for c in d["by_category"]]
    for key, title in (("by_round", "按轮次"), ("by_unit", "按单位")):
        if d.get(key):
            lines.append(f"  {title}：")
            lines += [f"    {r['round']['name'] if key == 'by_round' else r['unit']}  共 {r['total']}  销号 {r['closed']}"
                      f"  超期 {r['overdue']}  销号率 {r['closing_rate_text']}" for r in d[key]]
    lines.append("  超期问题：" if d["overdue_items"] else "  超期问题：无")
    lines += [f"    [{o['light']}] 问题 {o['id']}（{o['round']} 第 {o['number']} 号）{o['title']}  {o['unit']} {o['person']}"
              f"  时限 {o['deadline']}  超期 {o['days_overdue']} 天  当前：{o['step'] or '—'}" for o in d["overdue_items"]]
    return "\n".join(lines)


@main.command("dashboard")
@click.option("--round", "round_name", help="只看某轮次（名称或编号）；默认全部轮次")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def dashboard(ctx, round_name, as_json):
    """整改数据看板：销号率、灯色、按类别与单位统计、超期问题、平均销号用时。"""
    figures = dashboard_figures(ctx.engine(), round_name, shown=(None, None))  # the whole lists, unlike a page
    emit(figures | {"id": figures["round"]["id"] if figures["round"] else None}, as_json, _dashboard_text)


@report.command("upward")
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="输出文件：.pdf 或 .docx（按扩展名）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def report_upward(ctx, round_name, out, as_json):
    """生成轮次的整改情况报告（向党委、巡察机构报送；内部文件，含问责情况）：PDF 或 .docx。"""
    kind = out.suffix.lower().lstrip(".")
    if kind not in ("pdf", "docx"):
        raise InvalidInput(f"输出文件应以 .pdf 或 .docx 结尾：{out.name}")
    values = upward_report(ctx.engine(), round_name)
    if kind == "pdf":
        _write(out, lambda file: write_upward_pdf(values, file))
    else:
        out.write_bytes(render_upward_docx(values))
    emit({"id": values["round"]["id"], "round": values["round"]["name"], "file": str(out), "format": kind,
          "counts": values["counts"]}, as_json,
         lambda r: f"已生成 {r['file']}：问题 {r['counts']['problems']} 个（已完成整改 {r['counts']['closed']} 个），"
                   f"问责 {r['counts']['accountability']} 项")
