"""lookback start/list: 回头看 on closed problems of any category."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main
from engine.ledger.lookbacks import DEFAULT_DAYS, lookback_campaigns, start_lookback


def _campaign_text(c: dict) -> str:
    counts = c["counts"]
    lines = [f"回头看 {c['id']}（{c['method']}，{len(c['items'])} 个问题，核查期限 {c['due']}）："
             f"核查中 {counts['核查中']}，巩固 {counts['巩固']}，反弹 {counts['反弹']}"]
    lines += [f"    第 {r['number']} 号 {r['title']}  {r['unit']}  {r['result']}"
              + (f"（新时限 {r['new_deadline']}）" if r["new_deadline"] and r["result"] == "反弹" else "")
              + (f"  当前：{r['step']}" if r["step"] else "") for r in c["items"]]
    return "\n".join(lines)


@main.group()
def lookback():
    """回头看：对已销号问题（任何整改类别）抽查核查。"""


@lookback.command("start")
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--sample", type=int, help="随机抽取的问题数")
@click.option("--items", "numbers", help="指定的问题序号，逗号分隔，如 3,7,12")
@click.option("--days", type=int, default=DEFAULT_DAYS, show_default=True, help="核查期限（天）")
@click.option("--note", default="", help="说明，如 2027 年第一季度回头看")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def lookback_start(ctx, round_name, sample, numbers, days, note, as_json):
    """开展回头看：每个问题由责任人核查、分管领导签字；确认反弹的重新打开整改并转纪检监察问责。"""
    chosen = [n for n in (numbers or "").replace("，", ",").split(",") if n.strip()]
    emit(start_lookback(ctx.engine(), round_name, sample=sample, numbers=chosen or None, days=days, note=note,
                        actor="cli"), as_json, lambda c: "已开展" + _campaign_text(c))


@lookback.command("list")
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def lookback_list(ctx, round_name, as_json):
    """列出轮次的回头看及每个问题的结果。"""
    emit(lookback_campaigns(ctx.engine(), round_name), as_json, lambda d: "\n".join(
        [f"{d['round']}：可回头看的已销号问题 {d['eligible']} 个"] + [_campaign_text(c) for c in d["campaigns"]]))
