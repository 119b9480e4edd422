"""Completing a task: the form checked against its JSON Schema, evidence kept, a sign-off gate's
signature decided and recorded, the process advanced — one transaction, all of it or none of it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput
from engine.events import TaskReturned, record
from engine.people.logins import record_wrong_password, refuse_if_locked
from engine.people.passwords import check_password
from engine.process.bpmn import loop_of, reviewed_ids
from engine.process.forms import validate
from engine.process.instances import RunContext, advance, find_task, load_workflow
from engine.process.mirror import mirror_of
from engine.store import audit, closing_writes
from engine.store.models import EvidenceFile
from engine.work.evidence import Upload
from engine.work.inbox import ALREADY_DONE
from engine.work.signoff import DECISION_TEXT, check_separation, sign
from engine.work.task_load import load_task

if TYPE_CHECKING:
    from engine.core import Engine


def files_field(schema: dict) -> str:
    """The form field that holds uploaded evidence (x-widget: files), 'evidence' by default."""
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("x-widget") == "files":
            return name
    return "evidence"


def _check_evidence_known(session: Session, item_id: int, entries, stored) -> None:
    """Evidence named in the data must be a file uploaded now or earlier for this item."""
    if not isinstance(entries, list):
        return
    named = {e.get("sha256") for e in entries if isinstance(e, dict)} - {s.sha256 for s in stored}
    known = {s.sha256 for s in stored} | (set(session.execute(
        select(EvidenceFile.sha256).where(EvidenceFile.item_id == item_id, EvidenceFile.sha256.in_(named))
    ).scalars()) if named else set())
    unknown = [e.get("name", "?") for e in entries if isinstance(e, dict) and e.get("sha256") not in known]
    if unknown:
        raise InvalidInput("佐证材料无效", {"evidence": f"以下文件不属于本事项：{'、'.join(unknown)}"})


def _merge_evidence(kept: list, added: list[dict]) -> list:
    """Evidence already on the form plus the new uploads, each file once."""
    merged, seen = [], set()
    for entry in [*(kept if isinstance(kept, list) else []), *added]:
        key = entry.get("sha256") if isinstance(entry, dict) else None
        if key not in seen:
            seen.add(key)
            merged.append(entry)
    return merged


INSERT_EVIDENCE = EvidenceFile.__table__.insert()  # built once (engine/store/closing_writes.py)


class WrongSigningPassword(InvalidInput):
    """The signer's password confirmation did not match (counted like a failed login)."""


def complete_task(engine: Engine, task_id: str, data: dict, user_id: int, password: str | None = None,
                  files: tuple[Upload, ...] = ()) -> dict:
    """Complete a human task with form data (and evidence files); a sign-off gate also takes the
    signer's password and writes a signature record. One transaction: all of it or none of it."""
    try:
        return _complete(engine, task_id, data, user_id, password, files)
    except WrongSigningPassword:
        record_wrong_password(engine, user_id, "signoff.password_failed")
        raise


def _complete(engine: Engine, task_id: str, data: dict, user_id: int, password: str | None,
              files: tuple[Upload, ...]) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("表单数据必须是一个对象", {"_form": "表单数据必须是 JSON 对象"})
    # Checked and hashed before anything else; written last (before the commit), so a refused form
    # leaves no file behind.
    stored = [engine.evidence.describe(upload) for upload in files]
    with engine.db.transaction() as session:
        # Concurrent completers queue on the instance row (PostgreSQL; SQLite's write lock already
        # serialises them); the later one reads the instance as the first left it and finds the task no
        # longer READY. The revision check on save stays as the backstop.
        loaded = load_task(session, task_id, user_id)
        user, row, instance, item = loaded.user, loaded.row, loaded.instance, loaded.item
        workflow, spec = load_workflow(engine, instance)
        task = find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY:
            raise Conflict(ALREADY_DONE)
        before = mirror_of(workflow)

        schema = spec.forms.get(row.form_key) if row.form_key else {"type": "object"}
        field = files_field(schema)
        if stored:
            data = {**data, field: _merge_evidence(data.get(field, []), [s.as_data() for s in stored])}
        validate(schema, data, {"deadline": item.deadline})
        _check_evidence_known(session, item.id, data.get(field), stored)

        signature = None
        if row.signoff:
            refuse_if_locked(session, user.name, "签字")
            if not check_password(user.password_hash, password):
                raise WrongSigningPassword("签字确认失败：密码不正确", {"password": "密码不正确"})
            check_separation(session, row, reviewed_ids(task.task_spec), user)
            signature = sign(engine, session, item, row, user, password, data["decision"], data.get("opinion", ""),
                             dict(task.data))
            if signature.decision == "reject":
                record(session, TaskReturned(item.id, task_id, row.name, user.id, signature.opinion))

        task.data.update(data)
        output_item = getattr(loop_of(task), "output_item", None)
        if output_item is not None:  # a multi-instance element: its result is the form data
            task.data[output_item.bpmn_id] = dict(data)
        task.run()
        now = engine.clock.now()
        done = {"task_id": task_id, "instance_id": instance.id, "item_id": item.id, "bpmn_id": row.bpmn_id,
                "name": row.name, "kind": "signoff" if row.signoff else "user", "outcome": "completed",
                "completed_by": user.id, "completed_at": now, "data": data}
        if stored:
            closing_writes.hold(session, INSERT_EVIDENCE, [{
                "sha256": s.sha256, "name": s.name, "size": s.size, "item_id": item.id, "task_id": task_id,
                "uploaded_by": user.id, "uploaded_at": now} for s in stored])
        advance(engine, session, instance, workflow, item, RunContext(
            user.id, task_id, before=before, records=[done], other_due=loaded.other_due))
        details = {"step": row.name, "item": item.number, "files": [s.sha256 for s in stored]}
        if signature is not None:
            details.update(decision=signature.decision, digest=signature.digest)
        audit.append(session, "signoff" if signature else "task.complete", "task", task_id, user.name, **details)
        for upload, described in zip(files, stored):
            engine.evidence.write(upload, described)
        return {
            "id": task_id, "item_id": item.id, "step": row.name, "item_status": item.status,
            "decision": DECISION_TEXT.get(data.get("decision")) if row.signoff else None,
            "signature_digest": signature.digest if signature else None,
            "evidence": [s.as_data() for s in stored],
        }
