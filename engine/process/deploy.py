"""Deploying process versions: a BPMN file and the forms it references, stored once under the hash
of their content. New items start on the current version; running ones keep theirs."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.canonical import canonical_json, sha256_hex
from engine.clock import CLOCK
from engine.errors import InvalidInput, NotFound
from engine.process.bpmn import LoadedVersion, form_key_of, parse_process
from engine.process.forms import load_form
from engine.store import audit
from engine.store.models import ProcessVersion

if TYPE_CHECKING:
    from engine.core import Engine

DEFAULT_FILES = ("immediate.bpmn", "time_limited.bpmn", "long_term.bpmn", "lookback.bpmn", "change.bpmn",
                 "supervision.bpmn")


def all_task_specs(spec, subprocess_specs):
    for process_spec in [spec, *subprocess_specs.values()]:
        yield from process_spec.task_specs.values()


def deploy_file(engine: Engine, path: Path, actor: str | None = None) -> dict:
    """Validate and deploy one BPMN file; refuses a file `rectify workflows validate` would refuse."""
    from engine.process.validation import validate_file

    problems = validate_file(path, engine.settings.forms_path)
    if problems:
        raise InvalidInput(f"{path.name} 未通过校验", {p.element or path.name: p.message for p in problems})
    xml = path.read_text(encoding="utf-8")
    process_id, spec, subprocess_specs = parse_process(xml.encode("utf-8"), path.name)
    keys = sorted({k for k in (form_key_of(t) for t in all_task_specs(spec, subprocess_specs)) if k})
    forms = {key: load_form(engine.settings.forms_path, key) for key in keys}
    content_hash = sha256_hex(xml + canonical_json(forms))
    with engine.db.transaction() as session:
        version = session.execute(
            select(ProcessVersion).where(ProcessVersion.content_hash == content_hash)
        ).scalar_one_or_none()
        created = version is None
        if created:
            version = ProcessVersion(
                process_id=process_id, content_hash=content_hash, file_name=path.name, bpmn_xml=xml,
                forms=forms, deployed_at=CLOCK.now(), deployed_by=actor,
            )
            session.add(version)
            session.flush()
        if not version.is_current:
            session.execute(update(ProcessVersion).where(ProcessVersion.process_id == process_id)
                            .values(is_current=False))
            version.is_current = True
            audit.append(session, "process.deploy", "process_version", version.id, actor,
                         process_id=process_id, hash=content_hash, file=path.name)
        return {"id": version.id, "process_id": process_id, "hash": content_hash, "created": created,
                "forms": keys}


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
