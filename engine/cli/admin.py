"""workflows validate (the other workflows commands: cli/designer.py), audit verify, files prune and
migrate, doctor, backup and restore."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from engine.cli.base import emit, fail, handled, main
from engine.process.deploy import DEFAULT_FILES
from engine.process.form_versions import saved_forms_if_any
from engine.process.validation import validate_file
from engine.store.file_migrate import KINDS, migrate_files
from engine.store.file_prune import GRACE, STORE_TEXT, prune_files


@main.group()
def workflows():
    """流程（BPMN）：校验、部署与批准、版本列表、迁移运行中的问题。"""


@workflows.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def workflows_validate(ctx, files, as_json):
    """校验 BPMN 文件（默认 workflows/ 下的默认流程）；有问题时退出码为 1。
    本机有数据库时，表单按部署时的来源检查：设计器中保存的最新版本优先，其次 forms/ 下的文件。"""
    engine = ctx.engine(require_schema=False)
    paths = [Path(f) for f in files] or [engine.settings.workflows_path / name for name in DEFAULT_FILES]
    saved = saved_forms_if_any(engine)
    problems = [p for path in paths for p in validate_file(path, engine.settings.forms_path, saved)]
    rows = [{"id": f"{p.file}:{p.element}", "file": p.file, "element": p.element, "message": p.message} for p in problems]
    forms = ("表单取自设计器中保存的最新版本，其次 forms/" if saved is not None
             else "表单取自 forms/；本机没有可用的数据库，未读取设计器中保存的表单")
    emit(rows, as_json, lambda r: "\n".join(str(p) for p in problems) + f"\n（{forms}）" if problems
         else f"校验通过：{'、'.join(p.name for p in paths)}（{forms}）")
    if problems:
        raise SystemExit(1)


@main.group()
def audit():
    """审计日志。"""


@audit.command("verify")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="审计检查点文件（rectify audit checkpoint 生成，保存在系统之外），可多次给出")
@click.option("--files", "with_files", is_flag=True, help="同时逐个读取并校验佐证材料和销号单文件的 SHA-256（较慢）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def audit_verify(ctx, checkpoint_files, with_files, as_json):
    """校验审计日志（带密钥的链）、办理记录与签字的封存、各问题的签字链，以及给出的检查点；
    加 --files 时还校验每个被引用的文件；有问题时逐条指出并以 1 退出。"""
    from engine.integrity import read_checkpoint, verify_history

    checkpoints = [read_checkpoint(Path(f).read_bytes()) for f in checkpoint_files]
    value = verify_history(ctx.engine(), checkpoints, files=with_files).as_dict()
    emit(value, as_json, lambda v: (f"审计完整：审计日志 {v['rows']} 行，办理记录 {v['checked'].get('task_records', 0)} 条，"
                                    f"签字 {v['checked'].get('signatures', 0)} 个，检查点 {len(checkpoints)} 个"
                                    + (f"，文件 {v['checked']['files']} 个" if with_files else "") + "，均校验一致")
         if v["ok"] else "审计发现问题：\n" + "\n".join(f"  {p}" for p in v["problems"]))
    if not value["ok"]:
        if not as_json:
            fail(value["reason"])
        raise SystemExit(1)


@audit.command("checkpoint")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="检查点文件（JSON），请保存在本系统之外（如审计部门的存档）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def audit_checkpoint(ctx, out, as_json):
    """用本单位签名证书签署审计日志当前的链头，写入检查点文件。日后 audit verify --checkpoint 可发现数据库被回退。"""
    from engine.integrity import checkpoint

    value = checkpoint(ctx.engine())
    out.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    emit(value | {"id": str(out)}, as_json, lambda v: f"检查点已写入 {out}：审计日志第 {v['rows']} 行，哈希 {v['last_hash'][:16]}…")


@main.group()
def files():
    """文件库（佐证材料、销号单、待导入台账）。"""


@files.command("prune")
@click.option("--grace-hours", default=GRACE.total_seconds() / 3600, show_default=True, type=float,
              help="只删除早于这么多小时的文件（至少 1）")
@click.option("--dry-run", is_flag=True, help="只列出将删除的数量，不删除")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def files_prune(ctx, grace_hours, dry_run, as_json):
    """删除没有任何记录引用的文件：未能提交的操作留下的佐证材料和销号单、预览后未导入的台账。
    可与 rectify tick 一样由 cron 每天运行。"""
    value = prune_files(ctx.engine(), timedelta(hours=grace_hours), dry_run, actor="rectify files prune")
    verb = "将删除" if dry_run else "已删除"
    emit(value, as_json, lambda v: f"{verb} {v['files']} 个文件（{v['bytes'] / 1024:.0f} KB）："
         + "，".join(f"{STORE_TEXT[k]} {r['files']} 个" for k, r in v["removed"].items())
         + f"；宽限期内未引用的 {v['kept_within_grace']} 个暂留")


@files.command("migrate")
@click.option("--to", "target", type=click.Choice(KINDS), required=True, help="目标存储")
@click.option("--from", "source", type=click.Choice(KINDS), default="disk", show_default=True,
              help="来源存储（disk 即实例目录）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def files_migrate(ctx, target, source, as_json):
    """把文件从一个存储复制到另一个（如实例目录 → 数据库或 S3）；已有的跳过，可重复运行。
    复制后设置 RECTIFY_FILE_STORE 为目标存储。"""
    value = migrate_files(ctx.engine(), target, source, actor="rectify files migrate")
    emit(value, as_json, lambda v: f"已从 {source} 复制 {v['copied']} 个文件（{v['bytes'] / 1024:.0f} KB）到 {target}："
         + "，".join(f"{STORE_TEXT[k]} {c['copied']} 个" for k, c in v["namespaces"].items())
         + f"；目标已有 {v['present']} 个" + (f"；{v['damaged']} 个已损坏未复制" if v["damaged"] else "")
         + ("" if v["configured"] == target else f"\n当前使用的存储是 {v['configured']}：请设置 RECTIFY_FILE_STORE={target}"))
    if value["damaged"]:
        raise SystemExit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def doctor(ctx, as_json):
    """检查数据库的一致性：流程实例与待办、无人可办的任务、签字与签字链、事件、审计日志。有问题时退出码为 1。"""
    from engine.doctor import examine

    report = examine(ctx.engine())
    emit(report.as_dict(), as_json, lambda r: (
        "检查完成，未发现问题（" if r["ok"] else f"发现 {len(r['findings'])} 个问题（")
        + "，".join(f"{k} {v}" for k, v in r["checked"].items()) + "）"
        + "".join(f"\n  [{f['check']}] {f['subject']}：{f['problem']}" for f in r["findings"]))
    if not report.ok:
        raise SystemExit(1)


def _keys_path(out: Path, keys: Path | None) -> Path:
    return keys or out.with_name(out.name.removesuffix(".tar.gz") + ".keys.tar.gz")


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keys", "keys", type=click.Path(dir_okay=False, path_type=Path),
              help="密钥归档的路径（默认 OUT 旁的 *.keys.tar.gz）；请与数据分开保存")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def backup(ctx, out, keys, as_json):
    """备份：数据归档 OUT（全部数据表与佐证材料、销号单文件）与密钥归档（审计密钥、签名证书与私钥、网页密钥）分开写出。"""
    from engine.store.backup import backup as make_backup

    keys_path = _keys_path(out, keys)
    result = make_backup(ctx.engine(), out, keys_path)
    emit(result | {"id": str(out), "keys_path": str(keys_path)}, as_json, lambda r: (
        f"数据已备份到 {out}：{sum(r['rows'].values())} 行、{r['files']} 个文件\n"
        f"密钥已备份到 {keys_path}（{'、'.join(r['keys']) or '无'}）：请与数据分开保管，只有两者齐全才能恢复可校验的系统"))


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keys", "keys", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="密钥归档（rectify backup 写出的 *.keys.tar.gz）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def restore(ctx, archive, keys, as_json):
    """恢复：把备份恢复到新建的空数据库和实例目录（RECTIFY_DATABASE_URL、RECTIFY_INSTANCE_PATH）。"""
    from engine.store.backup import restore as do_restore

    result = do_restore(ctx.engine(require_schema=False), archive, keys)
    emit(result | {"id": str(archive)}, as_json, lambda r: (
        f"已恢复 {sum(r['rows'].values())} 行、{r['files']} 个文件（备份于 {r['made_at']}，来自 {r['database']}）；"
        f"密钥：{'、'.join(r['restored_keys']) or '未恢复（审计链与签名将无法校验）'}。请运行 rectify audit verify 核对"))
