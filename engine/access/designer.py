"""The browser designer (流程设计): the processes and their versions, the modeler's data, checking and
deploying BPMN text, approving deploy requests (流程设计 or 管理员), migrating running items and
reverting a migration; and 整改办's 退回到任意环节 of an item. Each function checks the signed-in
person's role first (403), then calls the one engine function that acts."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.access.items import require_role
from engine.errors import InvalidInput, NotFound
from engine.ledger import rewind
from engine.process import designs, form_versions, migration, versions
from engine.store.models import ADMIN, DESIGNER, OFFICE, Item

if TYPE_CHECKING:
    from engine.core import Engine


def _require(engine: Engine, user_id: int, *roles: str) -> None:
    with engine.db.reading() as session:
        require_role(session, user_id, *roles)


def form_files(engine: Engine) -> list[str]:
    """The forms a user task may name (files in forms/ and forms saved in the designer), for the modeler's select."""
    return [f"{key}.json" for key in form_versions.form_keys(engine)]


def forms_overview(engine: Engine, user_id: int) -> list[dict]:
    """/designer/forms: every task form with its latest saved version."""
    _require(engine, user_id, DESIGNER)
    return form_versions.list_forms(engine)


def form_page(engine: Engine, user_id: int, key: str, new: bool = False) -> dict:
    """The form editor's data; `new` starts a form not there yet (its name checked first)."""
    _require(engine, user_id, DESIGNER)
    return form_versions.form_detail(engine, key, new)


def form_preview(engine: Engine, user_id: int, text: str) -> dict:
    """Whether the text is a form the engine accepts, and its schema to render as a task form would be."""
    _require(engine, user_id, DESIGNER)
    schema, problems = form_versions.parse_schema(text)
    return {"valid": not problems, "problems": problems, "schema": schema}


def save_form(engine: Engine, user_id: int, key: str, text: str, comment: str) -> dict:
    _require(engine, user_id, DESIGNER)
    return form_versions.save_form(engine, key, text, comment, user_id)


def form_download(engine: Engine, user_id: int, version_id: int) -> dict:
    _require(engine, user_id, DESIGNER)
    return form_versions.form_version_file(engine, version_id)


def designer_overview(engine: Engine, user_id: int) -> list[dict]:
    """/designer: every process with its versions and pending deploy requests (流程设计; 管理员 to approve)."""
    _require(engine, user_id, DESIGNER, ADMIN)
    return versions.list_processes(engine)


def version_download(engine: Engine, user_id: int, version_id: int) -> dict:
    _require(engine, user_id, DESIGNER, ADMIN)
    return versions.version_file(engine, version_id)


def modeler_data(engine: Engine, user_id: int, version_id: int) -> dict:
    """What the modeler page needs: the version's BPMN, its process's versions, the form files."""
    _require(engine, user_id, DESIGNER)
    version = versions.version_file(engine, version_id)
    process = next((p for p in versions.list_processes(engine) if p["process_id"] == version["process_id"]), None)
    return {"version": version, "process": process, "forms": form_files(engine)}


def _xml(file_name: str, xml: str) -> tuple[str, str]:
    file_name = (file_name or "").strip()
    if not file_name.endswith(".bpmn") or "/" in file_name or "\\" in file_name:
        raise InvalidInput("文件名须为 *.bpmn", {"file_name": "文件名须以 .bpmn 结尾，且不含路径"})
    if not (xml or "").strip():
        raise InvalidInput("没有收到流程图", {"xml": "流程图内容为空"})
    return file_name, xml


def check_design(engine: Engine, user_id: int, file_name: str, xml: str) -> dict:
    """The same checks as `rectify workflows validate`, and the deploy preview when valid."""
    _require(engine, user_id, DESIGNER)
    return designs.deploy_preview(engine, *_xml(file_name, xml))


def deploy_design(engine: Engine, user_id: int, file_name: str, xml: str, comment: str) -> dict:
    _require(engine, user_id, DESIGNER)
    file_name, xml = _xml(file_name, xml)
    preview = designs.deploy_preview(engine, file_name, xml)
    if not preview["valid"]:
        raise InvalidInput("流程图未通过校验，不能部署", {p["element"] or "bpmn": p["message"] for p in preview["problems"]})
    return designs.deploy_xml(engine, file_name, xml, comment, user_id)


def decide_deploy(engine: Engine, user_id: int, request_id: int, approve: bool, opinion: str = "") -> dict:
    """Approve or refuse a pending deploy (another 流程设计 or a 管理员; the engine checks both)."""
    _require(engine, user_id, DESIGNER, ADMIN)
    return designs.approve_deploy(engine, request_id, user_id, approve, opinion)


def _process(engine: Engine, process_id: str) -> dict:
    process = next((p for p in versions.list_processes(engine) if p["process_id"] == process_id), None)
    if process is None:
        raise NotFound(f"找不到流程「{process_id}」")
    return process


def migration_page(engine: Engine, user_id: int, process_id: str, to_version: int | None) -> dict:
    """The process, the chosen target version's preview per item, and the migrations that may be reverted."""
    _require(engine, user_id, DESIGNER)
    process = _process(engine, process_id)
    to_version = to_version or process["current_version"]
    rows = migration.migration_preview(engine, process_id, to_version) if to_version else []
    return {"process": process, "to_version": to_version, "rows": rows,
            "migrated": recent_migrations(engine, process_id)}


def recent_migrations(engine: Engine, process_id: str) -> list[dict]:
    """Migrations of the process's items not reverted yet (a revert is offered; the engine decides)."""
    from engine.process.migration import InstanceMigration
    from engine.store.models import ProcessVersion

    with engine.db.reading() as session:
        rows = session.execute(
            select(InstanceMigration, Item).join(Item, Item.id == InstanceMigration.item_id)
            .join(ProcessVersion, ProcessVersion.id == InstanceMigration.to_version_id)
            .where(ProcessVersion.process_id == process_id, InstanceMigration.reverted_at.is_(None))
            .order_by(InstanceMigration.id.desc()).limit(200)).all()
        return [{"item_id": item.id, "number": item.number, "title": item.title, "from_version": m.from_version_id,
                 "to_version": m.to_version_id, "migrated_by": m.migrated_by, "migrated_at": m.migrated_at.isoformat()}
                for m, item in rows]


def migrate(engine: Engine, user_id: int, process_id: str, to_version: int, item_ids: list[int]) -> dict:
    """Migrate the chosen items; the migration page again, with each item's result."""
    _require(engine, user_id, DESIGNER)
    if not item_ids:
        raise InvalidInput("请选择要迁移的问题", {"items": "至少选择一项"})
    results = migration.migrate_items(engine, process_id, to_version, item_ids, user_id)
    return migration_page(engine, user_id, process_id, to_version) | {"results": results}


def revert(engine: Engine, user_id: int, item_id: int) -> dict:
    _require(engine, user_id, DESIGNER)
    return migration.revert_migration(engine, item_id, user_id)


def rewind_page(engine: Engine, user_id: int, item_id: int) -> dict:
    """整改办's form: the item and the steps it can be sent back to."""
    with engine.db.reading() as session:
        require_role(session, user_id, OFFICE)
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"找不到问题 {item_id}")
        summary = {"id": item.id, "number": item.number, "title": item.title}
    return {"item": summary, "targets": rewind.rewind_targets(engine, item_id)}


def ask_rewind(engine: Engine, user_id: int, item_id: int, step_id: str, reason: str) -> dict:
    _require(engine, user_id, OFFICE)
    return rewind.request_rewind(engine, item_id, step_id, user_id, reason)
