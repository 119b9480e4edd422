"""talks add: 约谈记录 (纪检监察 and leaders; internal)."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main
from engine.ledger.talks import KINDS, record_talk
from engine.people.directory import user_id_of


@main.group()
def talks():
    """约谈记录（内部，不对外公布）。"""


@talks.command("add")
@click.option("--as", "as_user", required=True, help="记录人（纪检监察、分管领导或主要领导）")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="类型")
@click.option("--date", "held_on", required=True, help="日期 YYYY-MM-DD")
@click.option("--people", required=True, help="谈话对象")
@click.option("--outcome", required=True, help="谈话情况")
@click.option("--items", "item_ids", required=True, help="涉及的问题编号（items list 中的编号），逗号分隔")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def talks_add(ctx, as_user, kind, held_on, people, outcome, item_ids, as_json):
    """记录一次约谈或提醒谈话，涉及一个或多个问题。"""
    engine = ctx.engine()
    ids = [int(i) for i in item_ids.replace("，", ",").split(",") if i.strip().isdigit()]
    talk = record_talk(engine, user_id_of(engine, as_user), kind, held_on, people, outcome, ids)
    emit(talk, as_json, lambda t: f"已记录{t['kind']} {t['id']}：{t['held_on']} {t['people']}（问题 {'、'.join(map(str, t['item_ids']))}）")
