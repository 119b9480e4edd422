"""rounds add/list/lights, items add/list/show."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled, local_time, main
from engine.ledger.detail import item_detail
from engine.ledger.items import NewItem, add_item, list_items
from engine.ledger.rounds import THRESHOLD_FIELDS, add_round, get_round, list_rounds, parse_date, update_round
from engine.store.models import CATEGORIES


@main.group()
def rounds():
    """巡察轮次。"""


@rounds.command("add")
@click.argument("name")
@click.option("--group", required=True, help="巡察组，如 市委第三巡察组")
@click.option("--body", required=True, help="被巡察单位")
@click.option("--feedback-date", required=True, help="反馈日期 YYYY-MM-DD")
@click.option("--inspection-start", help="巡察开始日期 YYYY-MM-DD")
@click.option("--inspection-end", help="巡察结束日期 YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def rounds_add(ctx, name, group, body, feedback_date, inspection_start, inspection_end, as_json):
    """新建巡察轮次。"""
    result = add_round(
        ctx.engine(), name, group, body, parse_date(feedback_date, "feedback_date", "反馈日期"),
        parse_date(inspection_start, "inspection_start", "巡察开始日期") if inspection_start else None,
        parse_date(inspection_end, "inspection_end", "巡察结束日期") if inspection_end else None, actor="cli",
    )
    emit(result, as_json, lambda r: f"已新建轮次 {r['id']}：{r['name']}（{r['group']} → {r['body']}，反馈 {r['feedback_date']}）")


@rounds.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def rounds_list(ctx, as_json):
    """列出巡察轮次。"""
    emit(list_rounds(ctx.engine()), as_json, lambda rows: "\n".join(
        f"{r['id']:>4}  {r['name']}  {r['group']} → {r['body']}  反馈 {r['feedback_date']}" for r in rows) or "（无轮次）")


@rounds.command("lights")
@click.argument("round_name")
@click.option("--blue-days", help="到期前多少天内亮蓝灯（默认 7）")
@click.option("--yellow-days", help="超期超过多少天亮黄灯（默认 0：超期次日）")
@click.option("--red-days", help="超期超过多少天亮红灯并转问责（默认 30）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def rounds_lights(ctx, round_name, blue_days, yellow_days, red_days, as_json):
    """查看或设置轮次的红黄绿灯规则；未给出的项保持不变，修改立即作用于本轮次未销号的问题。"""
    given = {"blue_days": blue_days, "yellow_days": yellow_days, "red_days": red_days}
    changes = {k: v for k, v in given.items() if v is not None}
    result = update_round(ctx.engine(), round_name, changes, actor="cli") if changes else get_round(ctx.engine(), round_name)
    emit({k: result[k] for k in ("id", "name", *THRESHOLD_FIELDS)}, as_json, lambda r: (
        f"轮次 {r['id']}：{r['name']}\n  蓝灯：到期前 {r['blue_days']} 天内；黄灯：{'超期 %d 天以上' % r['yellow_days'] if r['yellow_days'] else '超期即亮'}；"
        f"红灯（问责）：超期 {r['red_days']} 天以上"))


@main.group()
def items():
    """问题台账中的问题。"""


@items.command("add")
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--number", required=True, help="序号")
@click.option("--title", required=True, help="问题")
@click.option("--category", required=True, type=click.Choice(CATEGORIES), help="整改类别")
@click.option("--unit", required=True, help="责任单位")
@click.option("--person", required=True, help="责任人")
@click.option("--leader", required=True, help="分管领导")
@click.option("--deadline", required=True, help="整改时限 YYYY-MM-DD")
@click.option("--aspect", help="方面，如 （一）贯彻上级决策部署不到位")
@click.option("--description", default="", help="问题描述")
@click.option("--standard", default="", help="完成标准")
@click.option("--third-party", is_flag=True, help="需要第三方评估")
@click.option("--no-publish", is_flag=True, help="不在整改进展情况公布中公开")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_add(ctx, round_name, number, title, category, unit, person, leader, deadline, aspect, description,
              standard, third_party, no_publish, as_json):
    """新增问题并启动其整改流程。"""
    new = NewItem(number=number, title=title, category=category, unit=unit, person=person, leader=leader,
                  deadline=parse_date(deadline, "deadline", "整改时限"), aspect=aspect, description=description,
                  standard=standard, third_party=third_party, publish=not no_publish)
    item = add_item(ctx.engine(), round_name, new, actor="cli")
    emit(item, as_json, lambda i: f"已新增问题 {i['id']}（{i['round']} 第 {i['number']} 号，{i['category']}）：{i['title']}")


@items.command("list")
@click.option("--round", "round_name", help="只列出某轮次")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_list(ctx, round_name, as_json):
    """列出问题及其状态、灯色。"""
    emit(list_items(ctx.engine(), round_name), as_json, lambda rows: "\n".join(
        f"{i['id']:>4}  [{i['light']}] {i['status']}  {i['round']}-{i['number']}  {i['category']}  {i['title']}"
        f"  （{i['unit']} {i['person']}，时限 {i['deadline']}）" for i in rows) or "（无问题）")


@items.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_show(ctx, item_id, as_json):
    """显示问题详情：字段、状态、灯色、待办及办理人、签字链。"""
    emit(item_detail(ctx.engine(), item_id), as_json, _item_text)


def _item_text(d) -> str:
    lines = [
        f"问题 {d['id']}：{d['title']}",
        f"  轮次 {d['round']} 第 {d['number']} 号  方面：{d['aspect'] or '—'}",
        f"  类别 {d['category']}  责任单位 {d['unit']}  责任人 {d['person']}  分管领导 {d['leader']}",
        f"  整改时限 {d['deadline']}  状态 {d['status']}"
        + ("" if d["light"] == d["status"] else f"  灯色 {d['light']}（{d['light_text']}）"),
    ]
    lines.append("  待办：" if d["open_tasks"] else "  待办：无")
    lines += [f"    {t['id']}  {t['step']}  → {t['assignee']}{'  ✍签字' if t['signoff'] else ''}" for t in d["open_tasks"]]
    if d.get("changes"):
        lines.append("  变更申请：")
        lines += [f"    {c['id']}. {c['kind']} {c['status']}：{c['summary']}（理由：{c['reason']}）" for c in d["changes"]]
    lines.append("  签字链：" + ("完整" if d["signature_chain_ok"] else f"异常！{d['signature_chain_problem']}"))
    lines += [f"    {s['seq']}. {local_time(s['signed_at'])} {s['step']} {s['signer']}（{s['role']}）{s['decision_text']}"
              f"{'：' + s['opinion'] if s['opinion'] else ''}  {s['digest'][:16]}…" for s in d["signatures"]]
    return "\n".join(lines)


@items.command("publish-accountability")
@click.argument("item_id", type=int)
@click.option("--text", required=True, help="对外公布的问责情况（一句话）；给空字符串则不公布（默认不公布）")
@click.option("--as", "as_user", default="cli", help="操作人")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_publish_accountability(ctx, item_id, text, as_user, as_json):
    """整改办决定在整改进展情况公布中公开该问题的问责情况（单独一句，由整改办撰写）；问责处理环节本身的记录从不公开。"""
    from engine.ledger.items import set_public_accountability

    result = set_public_accountability(ctx.engine(), item_id, text, as_user)
    emit(result, as_json, lambda r: f"问题 {r['id']}：" + (f"将公开问责情况：{r['public_accountability']}"
                                                         if r["public_accountability"] else "不公开问责情况"))
