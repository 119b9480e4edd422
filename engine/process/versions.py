"""The deployed processes as a process designer sees them: each process's versions (hash, author,
time, comment, whether current) with how many items run on each, the deploys waiting for approval,
and any version's BPMN to download."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree
from sqlalchemy import func, select

from engine.errors import NotFound
from engine.process.designs import PENDING, DeployRequest, request_view
from engine.store.models import ProcessInstance, ProcessVersion

if TYPE_CHECKING:
    from engine.core import Engine


def version_view(v: ProcessVersion, running: int) -> dict:
    return {"id": v.id, "process_id": v.process_id, "hash": v.content_hash, "file_name": v.file_name,
            "deployed_by": v.deployed_by, "deployed_at": v.deployed_at.isoformat(), "comment": v.comment or "",
            "is_current": v.is_current, "items_running": running}


def process_name(xml: str, process_id: str) -> str:
    """The process's name as drawn (bpmn:process name), else its id."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return process_id
    for node in root.iter("{*}process"):
        if node.get("id") == process_id:
            return node.get("name") or process_id
    return process_id


def list_processes(engine: Engine) -> list[dict]:
    """[{process_id, name, current_version, versions: [{id, hash, deployed_by, deployed_at, comment,
    is_current, items_running, file_name}], pending: [deploy requests awaiting approval]}], by process id;
    versions newest first. `items_running` counts the items with an unfinished instance on it."""
    with engine.db.reading() as session:
        running = dict(session.execute(
            select(ProcessInstance.version_id, func.count(func.distinct(ProcessInstance.item_id)))
            .where(ProcessInstance.completed.is_(False)).group_by(ProcessInstance.version_id)).all())
        versions = session.execute(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                  ProcessVersion.id.desc())).scalars().all()
        pending = session.execute(select(DeployRequest).where(DeployRequest.status == PENDING)
                                  .order_by(DeployRequest.id)).scalars().all()
        processes: dict[str, dict] = {}
        for v in versions:
            entry = processes.setdefault(v.process_id, {"process_id": v.process_id, "name": v.process_id,
                                                        "current_version": None, "versions": [], "pending": []})
            if v.is_current:
                entry["current_version"], entry["name"] = v.id, process_name(v.bpmn_xml, v.process_id)
            entry["versions"].append(version_view(v, running.get(v.id, 0)))
        for r in pending:
            processes.setdefault(r.process_id, {"process_id": r.process_id, "name": r.process_id, "current_version": None,
                                                "versions": [], "pending": []})["pending"].append(request_view(r))
        return [processes[k] for k in sorted(processes)]


def version_file(engine: Engine, version_id: int) -> dict:
    """A deployed version's BPMN, to download: {id, process_id, file_name, download_name, xml}."""
    with engine.db.reading() as session:
        version = session.get(ProcessVersion, version_id)
        if version is None:
            raise NotFound(f"找不到流程版本 {version_id}")
        return {"id": version.id, "process_id": version.process_id, "file_name": version.file_name,
                "download_name": f"{version.process_id}-v{version.id}.bpmn", "xml": version.bpmn_xml}
