"""items change/changes (变更申请), items rewind (退回到之前的环节), tasks reassign (转办)."""
from __future__ import annotations

import click

from engine.cli.base import emit, handled
from engine.cli.ledger import items
from engine.cli.work import tasks
from engine.ledger.changes import list_changes, request_change
from engine.ledger.rewind import request_rewind, rewind_targets
from engine.people.directory import user_id_of
from engine.store.models import CATEGORIES
from engine.work.reassign import reassign_task


def _change_line(c: dict) -> str:
    decided = f"，{c['decided_by']}{c['status']}" + (f"：{c['opinion']}" if c["opinion"] else "") if c["decided_by"] else ""
    waiting = f"（待{c['approver_role']}审批，任务 {c['task_id']}）" if c["task_id"] else ""
    return f"{c['id']:>4}  {c['kind']}  {c['status']}{waiting}  {c['summary']}  理由：{c['reason']}  申请人：{c['requested_by']}{decided}"


@items.command("change")
@click.argument("item_id", type=int)
@click.option("--as", "as_user", required=True, help="申请人姓名（责任人、责任单位负责人或整改办）")
@click.option("--unit-of-requester", "requester_unit", help="申请人同名时指定其单位")
@click.option("--reason", required=True, help="理由")
@click.option("--deadline", help="延期：新整改时限 YYYY-MM-DD")
@click.option("--person", help="新责任人")
@click.option("--unit", help="新责任单位（须同时或随后指定该单位的责任人）")
@click.option("--leader", help="新分管领导")
@click.option("--category", type=click.Choice(CATEGORIES), help="新整改类别")
@click.option("--withdraw", is_flag=True, help="撤销该问题（如重复、不属实）")
@click.option("--merge-into", help="并入本轮次的另一问题（序号），并撤销本问题")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_change(ctx, item_id, as_user, requester_unit, reason, deadline, person, unit, leader, category, withdraw,
                 merge_into, as_json):
    """申请变更：延期、调整责任人/单位/分管领导（分管领导审批），调整类别、撤销、合并（主要领导审批）。"""
    engine = ctx.engine()
    change = request_change(engine, item_id, user_id_of(engine, as_user, requester_unit), reason, deadline=deadline,
                            person=person, unit=unit, leader=leader, category=category, withdraw=withdraw,
                            merge_into=merge_into)
    emit(change, as_json, lambda c: f"{c['id']}\n已提交变更申请 {c['id']}（{c['kind']}）：{c['summary']}；"
                                    f"待{c['approver_role']}审批，审批任务 {c['task_id']}")


@items.command("changes")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_changes(ctx, item_id, as_json):
    """列出问题的变更申请及其审批结果。"""
    emit(list_changes(ctx.engine(), item_id), as_json,
         lambda rows: "\n".join(_change_line(c) for c in rows) or "（无变更申请）")


@items.command("rewind")
@click.argument("item_id", type=int)
@click.option("--to", "step_id", required=True, help="退回到的环节（BPMN 编号，见 rectify items rewind-targets）")
@click.option("--as", "as_user", required=True, help="申请人（整改办）")
@click.option("--reason", required=True, help="理由")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_rewind(ctx, item_id, step_id, as_user, reason, as_json):
    """退回到之前的任一环节（整改办申请，主要领导签字批准后生效；其后的签字保留在签字链上并标为已被取代）。"""
    engine = ctx.engine()
    change = request_rewind(engine, item_id, step_id, user_id_of(engine, as_user), reason)
    emit(change, as_json, lambda c: f"{c['id']}\n已提交退回申请 {c['id']}：{c['summary']}；"
                                    f"待{c['approver_role']}审批，审批任务 {c['task_id']}")


@items.command("rewind-targets")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_rewind_targets(ctx, item_id, as_json):
    """列出问题现在可以退回到的环节。"""
    emit(rewind_targets(ctx.engine(), item_id), as_json,
         lambda rows: "\n".join(f"{t['step_id']}  {t['name']}" for t in rows) or "（现在没有可退回的环节）")


@tasks.command("reassign")
@click.argument("task_id")
@click.option("--to", "to_user", required=True, help="新办理人姓名")
@click.option("--to-unit", help="新办理人同名时指定单位")
@click.option("--as", "as_user", required=True, help="操作人（责任单位负责人或整改办）")
@click.option("--reason", required=True, help="转办理由")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def tasks_reassign(ctx, task_id, to_user, to_unit, as_user, reason, as_json):
    """转办：把待办任务交给另一人办理（责任单位负责人限本单位，整改办不限）。"""
    engine = ctx.engine()
    result = reassign_task(engine, task_id, to_user, user_id_of(engine, as_user), reason, to_unit)
    emit(result, as_json, lambda r: f"已转办：{r['step']}，{r['from']} → {r['to']}（{r['reason']}）")
