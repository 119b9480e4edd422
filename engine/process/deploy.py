"""Deploying process versions: a BPMN file and the forms it references, stored once under the hash
of their content. New items start on the current version; running ones keep theirs (until a process
designer migrates them: engine/process/migration.py). Who may deploy, and the second approval a new
or changed script needs, are in engine/process/designs.py; `deploy_file` is the installer's own
(init-db, the default workflows)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.canonical import canonical_json, sha256_hex
from engine.clock import CLOCK
from engine.errors import InvalidInput, NotFound
from engine.process.bpmn import LoadedVersion, form_key_of, parse_process
from engine.process.form_versions import form_schema, saved_forms
from engine.store import audit
from engine.store.models import ProcessVersion

if TYPE_CHECKING:
    from engine.core import Engine

DEFAULT_FILES = ("immediate.bpmn", "time_limited.bpmn", "long_term.bpmn", "lookback.bpmn", "change.bpmn",
                 "supervision.bpmn")
DEFAULT_COMMENT = "随系统安装的默认流程"


def all_task_specs(spec, subprocess_specs):
    for process_spec in [spec, *subprocess_specs.values()]:
        yield from process_spec.task_specs.values()


@dataclass
class Candidate:
    """A checked BPMN file ready to become a version: its process, forms and content hash."""

    file_name: str
    xml: str
    process_id: str
    forms: dict
    content_hash: str
    spec: object
    subprocess_specs: dict


def check_candidate(engine: Engine, file_name: str, xml: str) -> Candidate:
    """Validate BPMN text as `rectify workflows validate` does; refuses it with every problem,
    element by element (never a traceback)."""
    from engine.process.validation import validate_xml

    saved = saved_forms(engine)
    problems = validate_xml(xml.encode("utf-8"), file_name, engine.settings.forms_path, saved)
    if problems:
        errors: dict[str, str] = {}
        for p in problems:
            key = p.element or file_name
            errors[key] = f"{errors[key]}；{p.message}" if key in errors else p.message
        raise InvalidInput(f"{file_name} 未通过校验，不能部署", errors)
    process_id, spec, subprocess_specs = parse_process(xml.encode("utf-8"), file_name)
    keys = sorted({k for k in (form_key_of(t) for t in all_task_specs(spec, subprocess_specs)) if k})
    forms = {key: form_schema(engine, key, saved) for key in keys}
    return Candidate(file_name, xml, process_id, forms, sha256_hex(xml + canonical_json(forms)), spec, subprocess_specs)


def make_current(session: Session, candidate: Candidate, actor: str | None, comment: str) -> tuple[ProcessVersion, bool]:
    """Store the candidate as a version (once per content) and make it its process's current one;
    audited when the current version changes. Returns (version, created)."""
    version = session.execute(
        select(ProcessVersion).where(ProcessVersion.content_hash == candidate.content_hash)
    ).scalar_one_or_none()
    created = version is None
    if created:
        version = ProcessVersion(
            process_id=candidate.process_id, content_hash=candidate.content_hash, file_name=candidate.file_name,
            bpmn_xml=candidate.xml, forms=candidate.forms, deployed_at=CLOCK.now(), deployed_by=actor,
            comment=comment,
        )
        session.add(version)
        session.flush()
    if not version.is_current:
        session.execute(update(ProcessVersion).where(ProcessVersion.process_id == candidate.process_id)
                        .values(is_current=False))
        version.is_current = True
        audit.append(session, "process.deploy", "process_version", version.id, actor, process_id=candidate.process_id,
                     hash=candidate.content_hash, file=candidate.file_name, comment=comment, created=created)
    return version, created


def deploy_file(engine: Engine, path: Path, actor: str | None = None, comment: str | None = None) -> dict:
    """Validate and deploy one BPMN file as the installer does (init-db, tests): no role or approval
    rule — whoever runs the installer is trusted already. People deploy through designs.deploy_xml."""
    candidate = check_candidate(engine, path.name, path.read_text(encoding="utf-8"))
    with engine.db.transaction() as session:
        version, created = make_current(session, candidate, actor, comment or DEFAULT_COMMENT)
        return {"id": version.id, "process_id": candidate.process_id, "hash": candidate.content_hash,
                "created": created, "forms": sorted(candidate.forms)}


def deploy_defaults(engine: Engine, actor: str | None = None) -> list[dict]:
    return [deploy_file(engine, engine.settings.workflows_path / name, actor) for name in DEFAULT_FILES]


def current_version(session: Session, process_id: str) -> ProcessVersion:
    version = session.execute(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.is_current)
    ).scalar_one_or_none()
    if version is None:
        raise NotFound(f"流程「{process_id}」尚未部署，请先运行 rectify init-db 或 rectify workflows deploy")
    return version


def loaded(engine: Engine, version: ProcessVersion) -> LoadedVersion:
    """The parsed spec of a deployed version (parsed once per process)."""
    return engine.processes.version(
        version.id, lambda: (version.bpmn_xml, version.file_name, version.process_id, version.forms),
    )
