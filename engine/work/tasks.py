"""我的待办 and completing a task: the engine's main entry points for people doing the work."""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.store import audit
from engine.process.assignment import holder_label, refusal, visible_to
from engine.process.bpmn import reviewed_ids
from engine.clock import CLOCK
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.events import TaskReturned, record
from engine.work.evidence import Upload
from engine.process.forms import validate
from engine.ledger.items import item_summary
from engine.process.instances import RunContext, advance, find_task, load_workflow, version_spec
from engine.store.models import EvidenceFile, InboxTask, Item, ProcessInstance, TaskRecord, User, person_with_roles
from engine.people.logins import record_wrong_password, refuse_if_locked
from engine.people.passwords import check_password
from engine.work.signoff import DECISION_TEXT, check_separation, sign

ALREADY_DONE = "该任务已由他人处理"


@dataclass
class InboxFilter:
    round_id: int | None = None
    category: str | None = None
    light: str | None = None
    page: int = 1
    per_page: int = 20


def _user(session: Session, user_id: int) -> User:
    user = person_with_roles(session, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def task_row_view(engine, row: InboxTask) -> dict:
    item = row.item
    return {
        "id": row.id, "item_id": item.id, "item_number": item.number, "item_title": item.title,
        "round": item.round.name, "category": item.category, "step": row.name, "bpmn_id": row.bpmn_id,
        "role": row.lane_role, "assignee": holder_label(row), "form_key": row.form_key, "signoff": row.signoff,
        "due_date": row.due_date.isoformat() if row.due_date else None, "light": item.light,
        "created_at": row.created_at.isoformat(),
    }


def inbox(engine, user_id: int, filters: InboxFilter | None = None) -> dict:
    """The user's open tasks, most urgent first (earliest due), then newest."""
    filters = filters or InboxFilter()
    with engine.db.reading() as session:
        user = _user(session, user_id)
        query = select(InboxTask).where(visible_to(user))
        if filters.round_id or filters.category or filters.light:
            query = query.join(Item, Item.id == InboxTask.item_id)
            if filters.round_id:
                query = query.where(Item.round_id == filters.round_id)
            if filters.category:
                query = query.where(Item.category == filters.category)
            if filters.light:
                query = query.where(Item.light == filters.light)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = session.execute(
            query.options(selectinload(InboxTask.assignee), selectinload(InboxTask.item).selectinload(Item.round))
            .order_by(InboxTask.due_date.asc(), InboxTask.created_at.desc(), InboxTask.id)
            .limit(filters.per_page).offset((max(filters.page, 1) - 1) * filters.per_page)
        ).unique().scalars().all()
        return {"total": total, "page": filters.page, "per_page": filters.per_page,
                "tasks": [task_row_view(engine, row) for row in rows]}


def _task_or_conflict(session: Session, task_id: str) -> InboxTask:
    """The open task, or Conflict if it was already done (by someone else), or NotFound."""
    row = session.get(InboxTask, task_id)
    if row is not None:
        return row
    if session.execute(select(TaskRecord.id).where(TaskRecord.task_id == task_id)).first():
        raise Conflict(ALREADY_DONE)
    raise NotFound("任务不存在")


def inbox_count(engine, user_id: int) -> int:
    with engine.db.reading() as session:
        return session.execute(select(func.count(InboxTask.id)).where(visible_to(_user(session, user_id)))).scalar_one()


def task_form(engine, task_id: str, user_id: int) -> dict:
    """The JSON Schema of a task's form ({} for a step without one), for reading what was submitted:
    the task and the user's right to it are checked, but the workflow is not loaded (completing it
    checks everything again under the instance lock)."""
    with engine.db.reading() as session:
        row = _task_or_conflict(session, task_id)
        reason = refusal(_user(session, user_id), row)
        if reason:
            raise Forbidden(reason)
        if not row.form_key:
            return {}
        version_id = session.execute(select(ProcessInstance.version_id)
                                     .where(ProcessInstance.id == row.instance_id)).scalar_one()
        return version_spec(engine, session, version_id).forms.get(row.form_key) or {}


def task_detail(engine, task_id: str, user_id: int | None = None) -> dict:
    """A task with its form schema, instructions and the data it works on. With `user_id`, only for
    someone who may see it."""
    with engine.db.reading() as session:
        row = _task_or_conflict(session, task_id)
        if user_id is not None:
            reason = refusal(_user(session, user_id), row)
            if reason:
                raise Forbidden(reason)
        instance = session.get(ProcessInstance, row.instance_id)
        workflow, spec = load_workflow(engine, instance)
        task = find_task(workflow, task_id)
        view = task_row_view(engine, row)
        view.update({
            "form": spec.forms.get(row.form_key) if row.form_key else None,
            "instructions": (task.task_spec.documentation or "") if task else "",
            "data": _visible_data(task.data) if task else {},
            "reviews": reviewed_ids(task.task_spec) if task else [],
            "item": item_summary(row.item) | {"description": row.item.description, "standard": row.item.standard},
        })
        return view


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


def _visible_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_")}


class WrongSigningPassword(InvalidInput):
    """The signer's password confirmation did not match (counted like a failed login)."""


def complete_task(engine, task_id: str, data: dict, user_id: int, password: str | None = None,
                  files: tuple[Upload, ...] = ()) -> dict:
    """Complete a human task with form data (and evidence files); a sign-off gate also takes the
    signer's password and writes a signature record. One transaction: all of it or none of it."""
    try:
        return _complete(engine, task_id, data, user_id, password, files)
    except WrongSigningPassword:
        record_wrong_password(engine, user_id, "signoff.password_failed")
        raise


def _complete(engine, task_id: str, data: dict, user_id: int, password: str | None,
              files: tuple[Upload, ...]) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("表单数据必须是一个对象", {"_form": "表单数据必须是 JSON 对象"})
    # Checked and hashed before anything else; written last (before the commit), so a refused form
    # leaves no file behind.
    stored = [engine.evidence.describe(upload) for upload in files]
    with engine.db.transaction() as session:
        user = _user(session, user_id)
        row = _task_or_conflict(session, task_id)
        reason = refusal(user, row)
        if reason:
            raise Forbidden(reason)
        # Concurrent completers queue on the instance row (PostgreSQL; SQLite's write lock already
        # serialises them) and the later one finds the task gone; the revision check stays as backstop.
        instance = session.get(ProcessInstance, row.instance_id, with_for_update={"of": ProcessInstance}, populate_existing=True)
        if session.execute(select(InboxTask.id).where(InboxTask.id == task_id)).first() is None:
            raise Conflict(ALREADY_DONE)
        item = session.get(Item, row.item_id)
        workflow, spec = load_workflow(engine, instance)
        task = find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY:
            raise Conflict(ALREADY_DONE)

        schema = spec.forms.get(row.form_key) if row.form_key else {"type": "object"}
        field = files_field(schema)
        if stored:
            data = {**data, field: _merge_evidence(data.get(field, []), [s.as_data() for s in stored])}
        validate(schema, data)
        _check_evidence_known(session, item.id, data.get(field), stored)

        signature = None
        if row.signoff:
            refuse_if_locked(session, user.name, "签字")
            if not check_password(user.password_hash, password):
                raise WrongSigningPassword("签字确认失败：密码不正确", {"password": "密码不正确"})
            check_separation(session, row, reviewed_ids(task.task_spec), user)
            signature = sign(session, item, row, user, data["decision"], data.get("opinion", ""), dict(task.data))
            if signature.decision == "reject":
                record(session, TaskReturned(item.id, task_id, row.name, user.id, signature.opinion))

        task.data.update(data)
        output_item = getattr(task.parent.task_spec, "output_item", None) if task.parent else None
        if output_item is not None:  # a multi-instance element: its result is the form data
            task.data[output_item.bpmn_id] = dict(data)
        task.run()
        now = CLOCK.now()
        session.add(TaskRecord(
            task_id=task_id, instance_id=instance.id, item_id=item.id, bpmn_id=row.bpmn_id, name=row.name,
            kind="signoff" if row.signoff else "user", completed_by=user.id, completed_at=now, data=data,
        ))
        for s in stored:
            session.add(EvidenceFile(sha256=s.sha256, name=s.name, size=s.size, item_id=item.id, task_id=task_id,
                                     uploaded_by=user.id, uploaded_at=now))
        advance(engine, session, instance, workflow, spec, item, RunContext(user.id, task_id))
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
