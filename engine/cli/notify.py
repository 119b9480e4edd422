"""notify run/status/retry and worker: delivering notifications by e-mail and webhook."""
from __future__ import annotations

import time

import click

from engine.cli.base import emit, handled, main, parse_now
from engine.notify.delivery import delivery_status, retry_failed
from engine.notify.digest import notify_run
from engine.process.timers import tick as run_tick


def _report_text(r: dict) -> str:
    text = f"摘要 {r['digests']} 份，已发送 {r['sent']} 条，待重试 {r['retried']} 条，失败 {r['failed']} 条"
    return "\n".join([text] + [f"  {e['id']} {e['channel']}：{e['error']}" for e in r["errors"]])


@main.group()
def notify():
    """通知的投递（电子邮件、Webhook）。"""


@notify.command("run")
@click.option("--now", "now_text", help="以此时刻为当前时间（ISO 8601）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def notify_run_command(ctx, now_text, as_json):
    """生成到点的每日摘要，发送到期的邮件和 Webhook 消息。可重复运行，多个进程同时运行也不会重发。"""
    engine = ctx.engine()
    emit(notify_run(engine, parse_now(engine, now_text)).as_dict(), as_json, _report_text)


@notify.command("status")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def notify_status(ctx, as_json):
    """各状态的投递数，以及正在重试或已失败的投递和错误。"""
    emit(delivery_status(ctx.engine()), as_json, lambda s: "\n".join(
        ["  ".join(f"{k} {v}" for k, v in s["counts"].items())]
        + [f"  {f['id']} {f['channel']} {f['status']}（第 {f['attempts']} 次）{f['subject']}：{f['error']}" for f in s["failing"]]))


@notify.command("retry")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def notify_retry(ctx, as_json):
    """把已失败的投递重新放回队列（对方服务修复后）。"""
    engine = ctx.engine()
    count = retry_failed(engine, engine.clock.now())
    emit({"requeued": count}, as_json, lambda r: f"已重新排队 {r['requeued']} 条")


@main.command()
@click.option("--interval", default=60, show_default=True, help="每轮间隔（秒）")
@click.option("--once", is_flag=True, help="只运行一轮")
@click.pass_obj
@handled
def worker(ctx, interval, once):
    """后台循环：触发定时器、更新灯色并处理事件发件箱（tick），再投递通知（notify run）。"""
    engine = ctx.engine()
    while True:
        now = engine.clock.now()
        ticked = run_tick(engine, now)  # also handles the outbox's waiting events
        report = notify_run(engine, now)
        click.echo(f"{now.isoformat(timespec='seconds')}  定时器 {ticked.timers_fired}  {_report_text(report.as_dict())}")
        if once:
            return
        time.sleep(interval)
