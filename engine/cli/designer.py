"""workflows list/deploy/approve/migrate/revert/export: process versions for process designers."""
from __future__ import annotations

from pathlib import Path

import click

from engine.cli.admin import workflows
from engine.cli.base import emit, handled, local_time
from engine.errors import InvalidInput
from engine.people.directory import user_id_of
from engine.process.designs import approve_deploy, deploy_preview, deploy_xml
from engine.process.migration import migrate_items, migration_preview, revert_migration
from engine.process.versions import list_processes, version_file


def _version_line(v: dict) -> str:
    mark = "*" if v["is_current"] else " "
    return (f"  {mark} 版本 {v['id']:<4} {local_time(v['deployed_at'])}  {v['deployed_by'] or '—'}  "
            f"运行中 {v['items_running']} 项  {v['hash'][:12]}  {v['file_name']}"
            + (f"  说明：{v['comment']}" if v["comment"] else ""))


def _pending_line(r: dict) -> str:
    scripts = "、".join(f"{s['id']}「{s['name']}」{s['change']}" for s in r["scripts"])
    return (f"    待批准：部署申请 {r['id']}（{r['requested_by']}，{local_time(r['requested_at'])}，说明：{r['comment']}）"
            f"含新增或修改的脚本 {scripts}；批准：rectify workflows approve {r['id']} --as 姓名")


def _processes_text(rows: list[dict]) -> str:
    lines = []
    for p in rows:
        current = f"当前版本 {p['current_version']}" if p["current_version"] else "尚无当前版本"
        lines.append(f"{p['process_id']}  {p['name']}（{current}）")
        lines += [_version_line(v) for v in p["versions"]] + [_pending_line(r) for r in p["pending"]]
    return "\n".join(lines) or "（尚未部署任何流程）"


@workflows.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_list(ctx, as_json):
    """列出已部署的流程、各版本（哈希、部署人、时间、说明）及各版本上运行中的问题数，和待批准的部署。"""
    emit(list_processes(ctx.engine()), as_json, _processes_text)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} 不是 UTF-8 编码的文本文件", {path.name: "请以 UTF-8 保存 BPMN 文件"}) from None


def _deploy_line(r: dict) -> str:
    if r["status"] == "pending":
        scripts = "、".join(f"{s['id']}「{s['name']}」{s['change']}" for s in r["scripts"])
        return (f"{r['process_id']}：含新增或修改的脚本（{scripts}），须由另一位流程设计或管理员批准后才生效："
                f"部署申请 {r['request_id']}（rectify workflows approve {r['request_id']} --as 姓名）")
    if r["status"] == "unchanged":
        return f"{r['process_id']}：版本 {r['version_id']} 已是当前版本，未改动"
    return (f"{r['process_id']}：版本 {r['version_id']}{'（新）' if r['created'] else '（已存在，设为当前）'}；"
            "新问题使用此版本，运行中的问题仍用原版本（迁移：rectify workflows migrate）")


@workflows.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--comment", required=True, help="部署说明：改了什么、为什么（必填）")
@click.option("--as", "as_user", help="部署人（须有流程设计角色）；不给时为服务器上的命令行操作员")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_deploy(ctx, files, comment, as_user, as_json):
    """校验并部署流程新版本；新问题使用新版本，运行中的问题保持原版本。新增或修改脚本的部署须另一位流程设计或管理员批准。
    任一文件未通过校验时，一个也不部署。"""
    engine = ctx.engine()
    texts = [(path.name, _read(path)) for path in files]
    problems: dict[str, str] = {}
    for name, text in texts:
        for p in deploy_preview(engine, name, text)["problems"]:
            key = f"{name} [{p['element']}]" if p["element"] else name
            problems[key] = f"{problems[key]}；{p['message']}" if key in problems else p["message"]
    if problems:
        raise InvalidInput("BPMN 未通过校验，未部署任何文件", problems)
    actor = user_id_of(engine, as_user) if as_user else None
    results = [deploy_xml(engine, name, text, comment, actor) for name, text in texts]
    emit(results, as_json, lambda rows: "\n".join(_deploy_line(r) for r in rows))


@workflows.command("approve")
@click.argument("request_id", type=int)
@click.option("--as", "as_user", required=True, help="批准人（流程设计或管理员，不能是申请人）")
@click.option("--reject", is_flag=True, help="拒绝该部署（不部署）")
@click.option("--opinion", default="", help="意见")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_approve(ctx, request_id, as_user, reject, opinion, as_json):
    """批准（或 --reject 拒绝）一项含新增或修改脚本的部署申请。"""
    engine = ctx.engine()
    result = approve_deploy(engine, request_id, user_id_of(engine, as_user), not reject, opinion)
    emit(result, as_json, lambda r: f"部署申请 {r['id']}（{r['process_id']}）{r['status']}" + (
        f"：版本 {r['version_id']} 已设为当前版本" if r["version_id"] else ""))


def _item_ids(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("--items 应为以逗号分隔的问题编号（ID），如 3,5,8", {"items": text}) from None


def _migration_line(r: dict, done: bool) -> str:
    who = f"问题 {r['item_id']}" + (f"（第 {r['number']} 号「{r['title']}」）" if r.get("number") else "")
    versions = f"版本 {r['from_version']} → {r['to_version']}" if r.get("from_version") else ""
    if r.get("migrated") if done else r["movable"]:
        return f"  {who} {versions}：{'已迁移' if done else '可迁移'}"
    return f"  {who} {versions}：{'未迁移' if done else '不可迁移'}——{'；'.join(r['reasons'])}"


@workflows.command("migrate")
@click.argument("process_id")
@click.option("--to", "to_version", required=True, type=int, help="目标版本（rectify workflows list 中的版本号）")
@click.option("--items", "items", help="只迁移这些问题（ID，以逗号分隔）；默认为该流程其他版本上运行中的全部问题")
@click.option("--dry-run", is_flag=True, help="只预览：逐项说明能否迁移及原因，不作改动")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_migrate(ctx, process_id, to_version, items, dry_run, as_json):
    """把运行中的问题迁移到该流程的较新版本（SpiffWorkflow 的差异比较与迁移，按 BPMN 编号对应环节），每项单独提交。
    当前环节在新版本中被删除或改变、多实例环节正在进行等情况不迁移，并说明原因。"""
    engine = ctx.engine()
    if dry_run:
        rows = migration_preview(engine, process_id, to_version, _item_ids(items))
        movable = sum(1 for r in rows if r["movable"])
        emit(rows, as_json, lambda rs: "\n".join(
            [f"预览（未作改动）：可迁移 {movable} 项，不可迁移 {len(rs) - movable} 项"] + [_migration_line(r, False) for r in rs]))
        return
    rows = migrate_items(engine, process_id, to_version, _item_ids(items))
    moved = sum(1 for r in rows if r.get("migrated"))
    emit(rows, as_json, lambda rs: "\n".join(
        [f"已迁移 {moved} 项，未迁移 {len(rs) - moved} 项"] + [_migration_line(r, True) for r in rs]))


@workflows.command("revert")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_revert(ctx, item_id, as_json):
    """撤销问题最近一次的流程迁移（只在迁移之后尚未发生任何办理或变动时可行）。"""
    result = revert_migration(ctx.engine(), item_id)
    emit(result, as_json, lambda r: f"已撤销问题 {r['item_id']}（第 {r['number']} 号）的迁移：回到版本 {r['version']}")


@workflows.command("export")
@click.argument("version_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="写入的文件（默认输出到屏幕）")
@click.pass_obj
@handled
def workflows_export(ctx, version_id, out):
    """导出某一已部署版本的 BPMN 文件。"""
    value = version_file(ctx.engine(), version_id)
    if out is None:
        click.echo(value["xml"])
        return
    out.write_text(value["xml"], encoding="utf-8")
    click.echo(f"已导出 {value['process_id']} 版本 {value['id']} 到 {out}")
