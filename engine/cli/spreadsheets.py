"""ledger import/export: the round's problem ledger as an Excel workbook."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.cli.base import emit, fail, handled, main
from engine.ledger.rounds import get_round
from engine.ledger.xlsx.export import export_all, export_ledger
from engine.ledger.xlsx.importing import LedgerRefused, apply_import, preview_import
from engine.ledger.xlsx.lists import three_lists


@main.group()
def ledger():
    """问题台账（Excel）导入与导出。"""


def _plan_text(plan: dict, done: bool) -> str:
    items = plan["items"]
    aspects = {i["aspect"] for i in items if i["aspect"]}
    lines = [f"{'已导入' if done else '将导入'} {len(items)} 个问题（{len(aspects)} 个方面）到轮次「{plan['round']['name']}」"]
    if plan["new_units"]:
        lines.append(f"  新建单位 {len(plan['new_units'])} 个：{'、'.join(plan['new_units'])}")
    if plan["new_people"]:
        lines.append(f"  新建人员 {len(plan['new_people'])} 名（尚无密码，管理员设置后方可登录）："
                     + "、".join(f"{p['name']}（{p['unit']}，{'、'.join(p['roles'])}）" for p in plan["new_people"]))
    if plan["role_grants"]:
        lines.append("  为已有人员增加角色（须 --allow-role-changes）：" + "；".join(
            f"{g['name']}（{g['unit']}）→ {g['role']}，{g['effect']}" for g in plan["role_grants"]))
    if not done:
        lines.append("（试运行，未写入任何数据）")
    return "\n".join(lines)


def _refuse(problems: list[dict], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"ok": False, "problems": problems}, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            click.echo(problem["text"], err=True)
    fail(f"台账有 {len(problems)} 处问题，未导入任何数据")


@ledger.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_name", required=True, help="轮次名称或编号")
@click.option("--dry-run", is_flag=True, help="只检查并显示将要新建的内容，不写入")
@click.option("--allow-role-changes", is_flag=True,
              help="允许为已有人员增加台账所需的角色（如分管领导可查看全部单位）；不加则有此类变化时拒绝导入")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def ledger_import(ctx, file, round_name, dry_run, allow_role_changes, as_json):
    """导入问题台账 FILE.xlsx：全部成功或全部不导入；每个问题启动其整改流程。"""
    engine, data = ctx.engine(), file.read_bytes()
    plan = preview_import(engine, round_name, data)
    if not plan.ok:
        _refuse([p.as_dict() for p in plan.problems], as_json)
    if dry_run:
        emit(plan.as_dict() | {"id": plan.round["id"], "dry_run": True}, as_json, lambda p: _plan_text(p, False))
        return
    try:
        if as_json:  # progress as JSON lines on stderr; stdout keeps the one result document
            def report(done, total):
                if done == total or done % 50 == 0:
                    click.echo(json.dumps({"progress": {"done": done, "total": total}}), err=True)

            result = apply_import(engine, round_name, data, actor="cli", allow_role_changes=allow_role_changes,
                                  progress=report)
        elif not sys.stderr.isatty():
            result = apply_import(engine, round_name, data, actor="cli", allow_role_changes=allow_role_changes)
        else:  # a progress bar on the terminal only, never in output meant for scripts
            with click.progressbar(length=len(plan.items), label="导入", file=sys.stderr) as bar:
                result = apply_import(engine, round_name, data, actor="cli", allow_role_changes=allow_role_changes,
                                      progress=lambda done, total: bar.update(1))
    except LedgerRefused as exc:  # the database changed between the check and the import
        _refuse([p.as_dict() for p in exc.problems], as_json)
    emit(result | {"id": result["round"]["id"], "dry_run": False}, as_json, lambda r: _plan_text(r, True))


@ledger.command("export")
@click.option("--round", "round_name", help="轮次名称或编号")
@click.option("--all", "every_round", is_flag=True, help="导出全部轮次的问题（首列为轮次），不能与 --round 同用")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--lists", "as_lists", is_flag=True, help="导出三张清单（问题清单、任务清单、责任清单）而非台账")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def ledger_export(ctx, round_name, every_round, file, as_lists, as_json):
    """导出轮次的问题台账到 FILE.xlsx（含状态、灯色、当前环节、销号日期、最后签字人）；加 --lists 则导出三张清单；
    --all 则导出全部轮次的问题台账（一张表，首列为轮次）。"""
    if every_round == bool(round_name):
        fail("请指定 --round 轮次 或 --all（二者选一）")
    if every_round and as_lists:
        fail("三张清单按轮次导出：--lists 须与 --round 同用")
    engine = ctx.engine()
    if every_round:  # written straight to FILE, batch by batch: never the whole workbook in memory
        counts = export_all(engine, file)
        emit({"id": None, "round": None, "all": True, "file": str(file), "bytes": file.stat().st_size} | counts,
             as_json, _all_text)
        return
    round_ = get_round(engine, round_name)
    if as_lists:
        lists = three_lists(engine, round_["id"])
        data, extra, text = lists.xlsx(), {"lists": lists.counts}, _lists_text
    else:
        data, extra, text = export_ledger(engine, round_["id"]), {}, _ledger_text
    file.write_bytes(data)
    emit({"id": round_["id"], "round": round_["name"], "file": str(file), "bytes": len(data)} | extra, as_json, text)


def _all_text(r: dict) -> str:
    return f"已导出全部 {r['rounds']} 个轮次的台账（{r['rows']} 个问题）到 {r['file']}"


def _ledger_text(r: dict) -> str:
    return f"已导出轮次「{r['round']}」的台账到 {r['file']}"


def _lists_text(r: dict) -> str:
    counts = r["lists"]
    return (f"已导出轮次「{r['round']}」的三张清单到 {r['file']}"
            f"（问题 {counts['问题清单']} 条，任务 {counts['任务清单']} 条，责任 {counts['责任清单']} 条）")
