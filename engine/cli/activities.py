"""rounds activity add/list/remove: the round's own work (整改工作记录) that the reports count."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled
from engine.cli.ledger import rounds
from engine.ledger.activities import ACTIVITY_KINDS, add_activity, list_activities, remove_activity


def _line(a: dict) -> str:
    number = f"（{a['doc_number']}）" if a["doc_number"] else ""
    return f"{a['id']:>4}  {a['held_on']}  {a['kind']}  {a['topic']}{number}"


@rounds.group("activity")
def activity():
    """整改工作记录：党组会、专题会、民主生活会、督查、征求意见、制度制定与修订。"""


@activity.command("add")
@click.argument("round_name")
@click.option("--kind", required=True, help="类型：" + "、".join(ACTIVITY_KINDS))
@click.option("--date", "held_on", required=True, help="日期 YYYY-MM-DD")
@click.option("--topic", required=True, help="议题或名称（制度写制度名称）")
@click.option("--doc-number", default="", help="文号（制度、会议纪要）")
@click.option("--note", default="", help="备注")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def activity_add(ctx, round_name, kind, held_on, topic, doc_number, note, as_json):
    """记录一项整改工作。"""
    emit(add_activity(ctx.engine(), round_name, kind, held_on, topic, doc_number, note, actor="cli"), as_json,
         lambda a: "已记录：" + _line(a).strip())


@activity.command("list")
@click.argument("round_name")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def activity_list(ctx, round_name, as_json):
    """列出轮次的整改工作记录。"""
    emit(list_activities(ctx.engine(), round_name), as_json,
         lambda rows: "\n".join(_line(a) for a in rows) if rows else "（尚无整改工作记录）")


@activity.command("remove")
@click.argument("round_name")
@click.argument("activity_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def activity_remove(ctx, round_name, activity_id, as_json):
    """删除一条误记的整改工作记录（审计日志保留其内容）。"""
    emit(remove_activity(ctx.engine(), round_name, activity_id, actor="cli"), as_json,
         lambda a: "已删除：" + _line(a).strip())
