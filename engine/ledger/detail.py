"""An item's full page as plain values: fields, open tasks and who holds them, history, signatures
with the chain's state, evidence, and the titles of the recorded form fields."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engine.clock import CLOCK
from engine.ledger.changes import item_changes
from engine.ledger.items import get_item, item_summary
from engine.ledger.supervision import SUPERVISION_TITLES
from engine.process.assignment import holder_label
from engine.process.bpmn import form_key_of, step_id
from engine.process.deploy import all_task_specs, loaded
from engine.process.paths import latest_path
from engine.store.models import EvidenceFile, InboxTask, ProcessInstance, ProcessVersion, Signature, TaskRecord
from engine.work.reassign import REASSIGNMENT_TITLES
from engine.work.signoff import signature_view, verify_item_chain
from engine.work.superseded import superseded_of

if TYPE_CHECKING:
    from engine.core import Engine


def item_detail(engine: Engine, item_id: int) -> dict:
    """Fields, status, light, open tasks with who holds them, history and the signature chain."""
    with engine.db.reading() as session:
        item = get_item(session, item_id)
        open_tasks = session.execute(
            select(InboxTask).options(selectinload(InboxTask.assignee)).where(InboxTask.item_id == item_id)
            .order_by(InboxTask.created_at, InboxTask.id)
        ).unique().scalars().all()
        history = session.execute(
            select(TaskRecord).options(selectinload(TaskRecord.user)).where(TaskRecord.item_id == item_id)
            .order_by(TaskRecord.id)
        ).unique().scalars().all()
        signatures = session.execute(
            select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)
        ).scalars().all()
        evidence = session.execute(
            select(EvidenceFile).where(EvidenceFile.item_id == item_id).order_by(EvidenceFile.id)
        ).scalars().all()
        instance = latest_path(session, item_id)
        versions = session.execute(select(ProcessVersion).where(ProcessVersion.id.in_(
            select(ProcessInstance.version_id).where(ProcessInstance.item_id == item_id)))).scalars().all()
        chain = verify_item_chain(session, item_id)
        superseded = superseded_of(session, item_id)
        rules = engine.lights.for_round(item.round)
        return item_summary(item) | {
            "description": item.description, "standard": item.standard,
            "process": {"id": instance.version.process_id, "version": instance.version_id,
                        "completed": instance.completed, "tree_depth": instance.tree_depth} if instance else None,
            "open_tasks": [{"id": t.id, "step": t.name, "bpmn_id": t.bpmn_id, "role": t.lane_role,
                            "assignee": holder_label(t), "signoff": t.signoff,
                            "light": rules.item_light(item.deadline, item.status, CLOCK.now(), t.due_date),
                            "due_date": t.due_date.isoformat() if t.due_date else None} for t in open_tasks],
            "history": [{"task_id": r.task_id, "bpmn_id": r.bpmn_id, "step": r.name, "kind": r.kind,
                         "outcome": r.outcome, "by": r.user.name if r.user else None,
                         "at": r.completed_at.isoformat(), "data": r.data} for r in history],
            "signatures": [signature_view(s, superseded) for s in signatures],
            "changes": item_changes(session, item_id),
            "signature_chain_ok": chain.ok, "signature_chain_problem": chain.problem,
            "evidence": list({e.sha256: {"sha256": e.sha256, "name": e.name, "size": e.size}
                              for e in reversed(evidence)}.values())[::-1],
            "field_titles": {"handover": REASSIGNMENT_TITLES, "supervision": SUPERVISION_TITLES} | {
                step: titles for version in versions for step, titles in _field_titles(engine, version).items()},
        }


def _field_titles(engine: Engine, version) -> dict[str, dict[str, str]]:
    """Per step (BPMN id), the Chinese titles of its form's fields, to label recorded data."""
    spec = loaded(engine, version)
    titles = {}
    for task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
        schema = spec.forms.get(form_key_of(task_spec) or "") or {}
        fields = {name: prop.get("title", name) for name, prop in (schema.get("properties") or {}).items()}
        titles[step_id(task_spec)] = {"decision": "决定", "opinion": "意见", **REASSIGNMENT_TITLES, **fields}
    return titles
