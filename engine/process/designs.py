"""Deploying a process designer's BPMN: only 流程设计 may deploy; every deploy says what changed; a
deploy that adds or changes a script (script tasks, pre- and post-scripts: Python that runs
unsandboxed) waits as a deploy request until a second 流程设计 or 管理员 approves it. The browser
designer and `rectify workflows deploy/approve` call these."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.clock import CLOCK
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.process.bpmn import step_id, step_name
from engine.process.deploy import (
    Candidate,
    all_task_specs,
    check_candidate,
    loaded,
    make_current,
)
from engine.process.form_versions import saved_forms
from engine.process.validation import validate_xml
from engine.store import audit
from engine.store.models import (
    ADMIN,
    DESIGNER,
    Base,
    ProcessInstance,
    ProcessVersion,
    person_with_roles,
)

if TYPE_CHECKING:
    from engine.core import Engine

OPERATOR = "命令行"  # who acts when the command line is run without --as: the server's operator
PENDING, APPROVED, REJECTED = "待批准", "已批准", "已拒绝"


class DeployRequest(Base):
    """A deploy that adds or changes a script, waiting for a second designer's or admin's approval."""

    __tablename__ = "deploy_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict]
    comment: Mapped[str] = mapped_column(Text)
    scripts: Mapped[list]  # the scripts added or changed: [{id, name, change, script}]
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[Optional[str]] = mapped_column(String(100))
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]]
    opinion: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("process_versions.id"))


def acting_person(session: Session, actor_id: int | None, roles: set[str], what: str) -> tuple[str, int | None]:
    """(name, id) of who acts: a signed-in person holding one of `roles`, or (None) the operator."""
    if actor_id is None:
        return OPERATOR, None
    user = person_with_roles(session, actor_id)
    if user is None or not user.active:
        raise Forbidden("请先登录")
    if not user.roles & roles:
        raise Forbidden(f"只有{'或'.join(sorted(roles))}可以{what}")
    return user.name, user.id


def scripts_of(spec, subprocess_specs) -> dict[str, tuple[str, str]]:
    """Step id → (name, its Python: script, pre- and post-script) for every step that runs any."""
    found = {}
    for task_spec in all_task_specs(spec, subprocess_specs):
        texts = [getattr(task_spec, attr, None) for attr in ("script", "prescript", "postscript")]
        if any(texts):
            found[step_id(task_spec)] = (step_name(task_spec), "\n".join(t for t in texts if t))
    return found


def _current(session: Session, process_id: str) -> ProcessVersion | None:
    return session.execute(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                        ProcessVersion.is_current)).scalar_one_or_none()


def script_changes(engine: Engine, session: Session, candidate: Candidate) -> list[dict]:
    """Scripts the candidate adds or changes against its process's current version."""
    current = _current(session, candidate.process_id)
    old = scripts_of(*_specs(engine, current)) if current else {}
    return [{"id": sid, "name": name, "change": "修改" if sid in old else "新增", "script": text}
            for sid, (name, text) in scripts_of(candidate.spec, candidate.subprocess_specs).items()
            if old.get(sid, ("", None))[1] != text]


def _specs(engine: Engine, version: ProcessVersion):
    spec = loaded(engine, version)
    return spec.spec, spec.subprocess_specs


def step_changes(engine: Engine, session: Session, candidate: Candidate) -> dict[str, list[str]]:
    """Steps added, removed and changed against the current version (SpiffWorkflow's spec diff)."""
    current = _current(session, candidate.process_id)
    if current is None:
        return {"added": [], "removed": [], "changed": []}
    old_spec, old_subs = _specs(engine, current)
    pairs = [(old_spec, candidate.spec)] + [(old_subs[n], candidate.subprocess_specs[n])
                                            for n in old_subs if n in candidate.subprocess_specs]
    added, removed, changed = [], [], []
    for old, new in pairs:
        diff = SpecDiff(engine.processes.registry, old, new)
        added += [_label(s) for s in diff.added if getattr(s, "bpmn_id", None)]
        removed += [_label(s) for s in diff.removed if getattr(s, "bpmn_id", None)]
        changed += [_label(s) for s in diff.changed if getattr(s, "bpmn_id", None)]
    removed += [f"子流程 {n}" for n in old_subs if n not in candidate.subprocess_specs]
    added += [f"子流程 {n}" for n in candidate.subprocess_specs if n not in old_subs]
    return {"added": added, "removed": removed, "changed": changed}


def _label(task_spec) -> str:
    return f"{step_name(task_spec)}（{step_id(task_spec)}）"


def deploy_preview(engine: Engine, file_name: str, xml: str) -> dict:
    """What deploying this BPMN would do, without doing it: its problems (then nothing else), else the
    process, whether this content is deployed already, the steps added/removed/changed and the
    scripts added or changed (which make the deploy wait for a second approval)."""
    problems = validate_xml(xml.encode("utf-8"), file_name, engine.settings.forms_path, saved_forms(engine))
    if problems:
        return {"file_name": file_name, "valid": False,
                "problems": [{"element": p.element, "message": p.message} for p in problems]}
    candidate = check_candidate(engine, file_name, xml)
    with engine.db.reading() as session:
        current = _current(session, candidate.process_id)
        existing = session.execute(select(ProcessVersion.id).where(
            ProcessVersion.content_hash == candidate.content_hash)).scalar()
        scripts = script_changes(engine, session, candidate)
        running = session.execute(select(func.count(ProcessInstance.id)).join(ProcessVersion).where(
            ProcessVersion.process_id == candidate.process_id, ProcessInstance.completed.is_(False))).scalar()
        return {"file_name": file_name, "valid": True, "problems": [], "process_id": candidate.process_id,
                "hash": candidate.content_hash, "forms": sorted(candidate.forms), "existing_version": existing,
                "current_version": current.id if current else None,
                "unchanged": bool(current and existing == current.id), "steps": step_changes(engine, session, candidate),
                "scripts": scripts, "needs_approval": bool(scripts), "items_running": running}


def deploy_xml(engine: Engine, file_name: str, xml: str, comment: str, actor_id: int | None = None) -> dict:
    """Deploy BPMN text as a new version of its process (a 流程设计's act; None: the operator at the
    command line). Refused with element-level problems when invalid. A deploy that adds or changes a
    script becomes a pending request (status "pending") for approve_deploy; otherwise the version is
    current at once (status "deployed"), or was already ("unchanged")."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("部署须写明说明", {"comment": "「部署说明」不能为空：请写明改了什么、为什么"})
    candidate = check_candidate(engine, file_name, xml)
    with engine.db.transaction() as session:
        name, user_id = acting_person(session, actor_id, {DESIGNER}, "部署流程")
        current = _current(session, candidate.process_id)
        result = {"process_id": candidate.process_id, "hash": candidate.content_hash, "file_name": file_name,
                  "forms": sorted(candidate.forms), "scripts": [], "request_id": None, "created": False}
        if current is not None and current.content_hash == candidate.content_hash:
            return result | {"status": "unchanged", "id": current.id, "version_id": current.id}
        scripts = script_changes(engine, session, candidate)
        if scripts:
            pending = session.execute(select(DeployRequest.id).where(
                DeployRequest.process_id == candidate.process_id, DeployRequest.status == PENDING)).scalar()
            if pending:
                raise Conflict(f"流程「{candidate.process_id}」已有待批准的部署（编号 {pending}），请先批准或拒绝它")
            request = DeployRequest(
                process_id=candidate.process_id, file_name=file_name, content_hash=candidate.content_hash, bpmn_xml=xml,
                forms=candidate.forms, comment=comment, scripts=scripts, requested_by=name, requested_by_id=user_id,
                requested_at=CLOCK.now())
            session.add(request)
            session.flush()
            audit.append(session, "process.deploy.request", "deploy_request", request.id, name,
                         process_id=candidate.process_id, hash=candidate.content_hash, file=file_name, comment=comment,
                         scripts=[s["id"] for s in scripts])
            return result | {"status": "pending", "id": request.id, "request_id": request.id, "version_id": None,
                             "scripts": scripts}
        version, created = make_current(session, candidate, name, comment)
        return result | {"status": "deployed", "id": version.id, "version_id": version.id, "created": created}


def approve_deploy(engine: Engine, request_id: int, approver_id: int, approve: bool = True, opinion: str = "") -> dict:
    """A second 流程设计 or 管理员 (never the requester) approves a pending deploy — the version becomes
    current — or refuses it (nothing is deployed)."""
    with engine.db.transaction() as session:
        request = session.get(DeployRequest, request_id, with_for_update=True)
        if request is None:
            raise NotFound(f"找不到部署申请 {request_id}")
        name, user_id = acting_person(session, approver_id, {DESIGNER, ADMIN}, "批准部署")
        if request.status != PENDING:
            raise Conflict(f"部署申请 {request_id} {request.status}，不能再处理")
        if user_id is not None and user_id == request.requested_by_id:
            raise Forbidden("部署含新增或修改的脚本，须由另一位流程设计或管理员批准，申请人不能批准自己的部署")
        request.status, request.decided_by, request.decided_by_id = (APPROVED if approve else REJECTED), name, user_id
        request.decided_at, request.opinion = CLOCK.now(), (opinion or "").strip()
        if approve:
            candidate = Candidate(request.file_name, request.bpmn_xml, request.process_id, request.forms,
                                  request.content_hash, None, {})
            version, _ = make_current(session, candidate, request.requested_by, request.comment)
            request.version_id = version.id
        audit.append(session, "process.deploy.approve" if approve else "process.deploy.reject", "deploy_request",
                     request.id, name, process_id=request.process_id, hash=request.content_hash,
                     version=request.version_id, opinion=request.opinion)
        return request_view(request)


def request_view(r: DeployRequest) -> dict:
    return {"id": r.id, "process_id": r.process_id, "file_name": r.file_name, "hash": r.content_hash,
            "comment": r.comment, "scripts": r.scripts, "status": r.status, "requested_by": r.requested_by,
            "requested_at": r.requested_at.isoformat(), "decided_by": r.decided_by,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None, "opinion": r.opinion,
            "version_id": r.version_id}
