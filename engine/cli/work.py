"""tasks list/show/complete, tick."""
from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli.base import emit, handled, local_time, main, parse_now
from engine.errors import InvalidInput
from engine.people.directory import user_id_of
from engine.process.timers import tick as run_tick
from engine.work.completion import complete_task
from engine.work.evidence import Upload
from engine.work.inbox import InboxFilter, inbox, task_detail


@main.group()
def tasks():
    """待办任务。"""


@tasks.command("list")
@click.option("--user", "user_name", required=True, help="用户姓名")
@click.option("--unit", help="同名时指定单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def tasks_list(ctx, user_name, unit, as_json):
    """列出用户的待办（本人的和其角色的）。"""
    engine = ctx.engine()
    result = inbox(engine, user_id_of(engine, user_name, unit), InboxFilter(per_page=1000))
    emit(result["tasks"], as_json, lambda rows: "\n".join(
        f"{t['id']}  [{t['light']}] {t['step']}{'（签字）' if t['signoff'] else ''}  问题 {t['item_id']}：{t['item_title']}"
        f"  期限 {t['due_date'] or '—'}" for t in rows) or "（无待办）")


@tasks.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def tasks_show(ctx, task_id, as_json):
    """显示任务：办理说明、表单（JSON Schema）、是否签字环节。"""
    detail = task_detail(ctx.engine(), task_id)
    emit(detail, as_json, lambda d: "\n".join([
        f"任务 {d['id']}：{d['step']}{'（签字环节）' if d['signoff'] else ''}",
        f"  问题 {d['item_id']}：{d['item_title']}（{d['round']}）",
        f"  办理：{d['assignee']}  期限：{d['due_date'] or '—'}",
        f"  说明：{d['instructions'] or '—'}",
        "  表单字段：" + "、".join(f"{k}（{v.get('title', k)}）" for k, v in (d["form"] or {}).get("properties", {}).items()),
    ]))


@tasks.command("complete")
@click.argument("task_id")
@click.option("--as", "as_user", required=True, help="办理人姓名")
@click.option("--unit", help="同名时指定单位")
@click.option("--data", "data_json", default="{}", help='表单数据 JSON；签字环节为 {"decision": "approve"|"reject", "opinion": "…"}')
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False), help="佐证材料文件，可多次给出")
@click.option("--password", help="签字环节须再次输入密码确认")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def tasks_complete(ctx, task_id, as_user, unit, data_json, files, password, as_json):
    """办理（提交）任务。"""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        raise InvalidInput("--data 不是有效的 JSON", {"data": f"第 {exc.colno} 列：{exc.msg}"}) from None
    uploads = []
    for name in files:
        path = Path(name)
        if not path.exists():
            raise InvalidInput("文件不存在", {"file": f"找不到文件 {name}"})
        uploads.append(Upload(path.name, path.read_bytes()))
    engine = ctx.engine()
    result = complete_task(engine, task_id, data, user_id_of(engine, as_user, unit), password, tuple(uploads))
    emit(result, as_json, lambda r: f"已办理：{r['step']}" + (f"（{r['decision']}）" if r["decision"] else "")
         + f"；问题状态：{r['item_status']}")


@main.command()
@click.option("--now", "now_text", help="以此时刻为当前时间（ISO 8601，如 2026-08-01T09:00:00+08:00）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def tick(ctx, now_text, as_json):
    """触发到期定时器、更新红黄绿灯、生成问责任务。可重复运行。"""
    now = parse_now(ctx.engine(), now_text)
    report = run_tick(ctx.engine(), now)
    value = {"id": report.now, **report.__dict__}
    emit(value, as_json, lambda r: f"时刻 {local_time(r['now'], ctx.engine().settings.timezone)}：触发定时器 {r['timers_fired']} 个，新任务 {len(r['new_tasks'])} 个"
         + "".join(f"\n  新任务：{t['step']}（问题 {t['item_id']}，{t['role']}）" for t in r["new_tasks"])
         + ("\n  灯色变化：" + "、".join(f"{k} {v} 个" for k, v in r["lights_changed"].items()) if r["lights_changed"] else "")
         + (f"\n  事件：处理 {r['outbox']['handled']} 个，失败 {r['outbox']['failed']} 个" if r["outbox"]["handled"] or r["outbox"]["failed"] else ""))
