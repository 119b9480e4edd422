"""What a signer sees before signing: the work under review, its evidence, earlier signatures."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.process.bpmn import form_key_of, reviewed_ids, step_id
from engine.process.deploy import all_task_specs
from engine.process.instances import find_task, load_workflow
from engine.store.models import ProcessInstance, Signature
from engine.work.inbox import task_for
from engine.work.signoff import evidence_hashes, reviewed_records, signature_view
from engine.work.superseded import superseded_of

if TYPE_CHECKING:
    from engine.core import Engine


def signoff_context(engine: Engine, task_id: str, user_id: int) -> dict:
    with engine.db.reading() as session:
        user, row = task_for(session, task_id, user_id)
        if not row.signoff:
            raise InvalidInput("该任务不是签字环节")
        instance = session.get(ProcessInstance, row.instance_id)
        workflow, spec = load_workflow(engine, instance)
        task = find_task(workflow, task_id)
        reviewed = reviewed_ids(task.task_spec) if task else []
        forms_by_step = {step_id(t): spec.forms.get(form_key_of(t)) for t in all_task_specs(spec.spec, spec.subprocess_specs)
                         if form_key_of(t)}
        records = reviewed_records(session, row.item_id, row.bpmn_id, reviewed)
        signatures = session.execute(select(Signature).where(Signature.item_id == row.item_id)
                                     .order_by(Signature.seq)).scalars().all()
        superseded = superseded_of(session, row.item_id)
        work = [{"step": r.name, "bpmn_id": r.bpmn_id, "by": r.user.name if r.user else None,
                 "at": r.completed_at.isoformat(), "data": r.data or {}, "form": forms_by_step.get(r.bpmn_id) or {}}
                for r in records]
        return {
            "work": work,
            "evidence": evidence_hashes([w["data"] for w in work]),
            "signatures": [signature_view(s, superseded) for s in signatures],
            "done_by_you": any(r.completed_by == user.id for r in records),
        }
