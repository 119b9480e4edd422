"""talks add (约谈记录, internal), supervision issue/list (督办单)."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, main
from engine.ledger.rounds import find_round
from engine.ledger.supervision import issue_notice, notices
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


@main.group()
def supervision():
    """督办单：整改办或领导就问题发出督办，责任人限期回复。"""


@supervision.command("issue")
@click.option("--as", "as_user", required=True, help="发出人（整改办、分管领导或主要领导）")
@click.option("--items", "item_ids", required=True, help="督办的问题编号（items list 中的编号），逗号分隔")
@click.option("--demand", required=True, help="督办要求")
@click.option("--reply-by", required=True, help="回复期限 YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def supervision_issue(ctx, as_user, item_ids, demand, reply_by, as_json):
    """发出督办单：每个问题的责任人收到「督办回复」任务；逾期未回复转责任单位负责人督促。"""
    engine = ctx.engine()
    ids = [int(i) for i in item_ids.replace("，", ",").split(",") if i.strip().isdigit()]
    notice = issue_notice(engine, user_id_of(engine, as_user), ids, demand, reply_by)
    emit(notice, as_json, lambda n: f"已发出督办单 {n['id']}：{len(n['items'])} 个问题，回复期限 {n['reply_due']}")


@supervision.command("list")
@click.option("--round", "round_name", help="只列某轮次的问题")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def supervision_list(ctx, round_name, as_json):
    """列出督办单及每个问题的回复情况。"""
    engine = ctx.engine()
    with engine.db.reading() as session:
        round_id = find_round(session, round_name).id if round_name else None
        rows = notices(session, round_id, engine.lights.local_date(engine.clock.now()))
    emit(rows, as_json, lambda ns: "\n".join(
        f"{n['id']:>4}  {n['reply_due']}前回复  {n['demand']}  " + "；".join(f"第{r['number']}号{r['state']}" for r in n["items"])
        for n in ns) or "（无督办单）")
