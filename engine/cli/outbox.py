"""outbox run/status: domain events waiting for their after-commit handlers."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main, parse_now


@main.group()
def outbox():
    """事件发件箱：提交后处理的事项事件（如销号后生成销号单）。"""


@outbox.command("run")
@click.option("--now", "now_text", help="以此时刻为当前时间（ISO 8601）")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1), help="本次最多处理的事件数")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def outbox_run(ctx, now_text, limit, as_json):
    """处理尚未处理的事件（进程中断后遗留的、失败待重试的）。可重复运行，可多个进程同时运行。"""
    engine = ctx.engine()
    report = engine.outbox.run(now=parse_now(engine, now_text), limit=limit)
    emit(report.as_dict(), as_json, lambda r: f"已处理事件 {r['handled']} 个，失败 {r['failed']} 个"
         + "".join(f"\n  失败：事件 {e['id']}（{e['event']}）：{e['error']}" for e in r["errors"]))
    if report.failed:
        raise SystemExit(1)


@outbox.command("status")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def outbox_status(ctx, as_json):
    """待处理的事件数，以及处理失败的事件和错误原因。"""
    status = ctx.engine().outbox.status()
    emit(status, as_json, lambda s: f"待处理事件 {s['pending']} 个" + "".join(
        f"\n  失败：事件 {f['id']}（{f['event']}，问题 {f['item_id']}）已试 {f['attempts']} 次，下次 {f['next_try']}：{f['error']}"
        for f in s["failing"]))
