"""Process instances: start an item's path, load it, run it and save it with everything that
mirrors it in our tables (inbox, timers, history, item status) in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.clock import CLOCK, add_months
from engine.errors import Conflict, EngineError
from engine.events import (
    DeadlineChanged,
    ItemClosed,
    ItemReopened,
    record,
)
from engine.ledger.lights import CLOSED
from engine.ledger.relight import UNKNOWN, refresh_light
from engine.process.bpmn import (
    PROP_ITEM_STATUS,
    is_signoff,
    properties_of,
    step_id,
    step_name,
)
from engine.process.compaction import compact
from engine.process.deploy import current_version, loaded
from engine.process.mirror import Mirror, seal_records, sync_inbox, sync_timers
from engine.store.models import (
    IMMEDIATE,
    LONG_TERM,
    STATUS_CLOSED,
    STATUS_OPEN,
    TIME_LIMITED,
    Item,
    ProcessInstance,
    ProcessVersion,
    TaskRecord,
)

if TYPE_CHECKING:
    from engine.core import Engine

PROCESS_OF_CATEGORY = {IMMEDIATE: "immediate", TIME_LIMITED: "time_limited", LONG_TERM: "long_term"}
# 回头看 of a closed item of any category, 变更审批 and 督办 of an open one: processes that run beside the
# item's path (its category's process), not instead of it.
LOOKBACK_PROCESS = "lookback"
CHANGE_PROCESS = "change"
SUPERVISION_PROCESS = "supervision"  # 督办 of an open item
SIDE_PROCESSES = (LOOKBACK_PROCESS, CHANGE_PROCESS, SUPERVISION_PROCESS)
# process id -> called in the completing transaction when an instance of it finishes:
# hook(engine, session, instance, item). Registered by the modules that own those processes.
ON_COMPLETED: dict = {}
DEFAULT_LOOKBACKS = 2
# Engine steps are bounded so that a timer cycle misconfigured into the past cannot spin forever.
MAX_ENGINE_ROUNDS = 50


def honours_third_party(session: Session, category: str) -> bool:
    """Whether the current process of `category` reads `needs_third_party` (has a 第三方评估 step):
    the flag is refused for a path that would silently ignore it."""
    return "needs_third_party" in current_version(session, PROCESS_OF_CATEGORY[category]).bpmn_xml


def deadline_data(engine: Engine, item: Item) -> dict:
    """The variables that follow the item's deadline and its round's 红 point (`red_days`, for
    scripts that set a new deadline: `escalation_time(new_deadline, red_days)`)."""
    red_days = item.round.red_days
    return {"deadline": item.deadline.isoformat(), "red_days": red_days,
            "escalation_at": engine.escalation_time(item.deadline.isoformat(), red_days)}


def initial_data(engine: Engine, item: Item) -> dict:
    """Process variables every path starts with (workflows/README.md lists them)."""
    return {
        "item_id": item.id,
        "category": item.category,
        **deadline_data(engine, item),
        "plan_due": add_months(item.round.feedback_date, 1).isoformat(),
        "needs_third_party": bool(item.needs_third_party),
        "lookbacks_required": DEFAULT_LOOKBACKS,
        "reopened": False,
    }


@dataclass
class RunContext:
    """What one action did to an instance, for the rows that mirror it."""

    actor_id: int | None = None
    completed_task_id: str | None = None
    engine_steps: list = field(default_factory=list)
    closed: bool = False  # this action closed (销号) the item
    reopened: bool = False  # this action reopened it
    # What the inbox and timer rows mirrored when the workflow was loaded (`mirror_of`): with it, the
    # save needs no SELECT to find which rows changed. None: read them from the database.
    before: Mirror | None = None
    records: list[dict] = field(default_factory=list)  # task records to write with the engine steps'
    # The earliest due date of the item's other open tasks (those not ended by this action), when the
    # caller read it with the task: the light then needs no query. UNKNOWN: query it.
    other_due: object = UNKNOWN


def start_instance(engine: Engine, session: Session, item: Item, process_id: str | None = None,
                   data: dict | None = None) -> ProcessInstance:
    """Start the item's path (the process of its category), or another process (`process_id`) for
    it; `data` adds to or overrides the variables every path starts with."""
    version = current_version(session, process_id or PROCESS_OF_CATEGORY[item.category])
    spec = loaded(engine, version)
    workflow = engine.processes.new_workflow(spec, initial_data(engine, item) | (data or {}))
    now = CLOCK.now()
    instance = ProcessInstance(item_id=item.id, version_id=version.id, state="", created_at=now, updated_at=now)
    instance.version = version
    session.add(instance)
    session.flush()
    advance(engine, session, instance, workflow, item, RunContext(before=Mirror({}, {})))
    return instance


def load_workflow(engine: Engine, instance: ProcessInstance):
    # The version row (BPMN XML) is only read when this process has not parsed that version yet.
    spec = engine.processes.version(instance.version_id, lambda: _version_fields(instance.version))
    return engine.processes.loads(instance.state, spec), spec


def _version_fields(version):
    return version.bpmn_xml, version.file_name, version.process_id, version.forms


def version_spec(engine: Engine, session, version_id: int):
    """A deployed version's parsed spec (with its forms), parsed once per process."""
    return engine.processes.version(version_id, lambda: _version_fields(session.get(ProcessVersion, version_id)))


def _engine_ready(workflow) -> bool:
    return any(not t.task_spec.manual for wf in [workflow, *workflow.subprocesses.values()]
               for t in wf.get_tasks(state=TaskState.READY))


def find_task(workflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # SpiffWorkflow raises TaskNotFoundException
        return None


def run_engine_steps(workflow, ctx: RunContext) -> None:
    for _ in range(MAX_ENGINE_ROUNDS):
        workflow.do_engine_steps(did_complete_task=ctx.engine_steps.append)
        if not _engine_ready(workflow):
            break


def advance(engine: Engine, session: Session, instance: ProcessInstance, workflow, item: Item,
            ctx: RunContext) -> None:
    """Run engine steps (timers included), compact, save, and mirror the result."""
    run_engine_steps(workflow, ctx)
    now = CLOCK.now()
    _record_engine_steps(session, instance, item, ctx, now)
    _apply_item_status(engine, session, item, ctx, now)
    depth, size = compact(workflow)
    _save_state(session, instance, state=engine.processes.dumps(workflow), completed=workflow.is_completed(),
                tree_depth=depth, tree_size=size, updated_at=now)
    new_dues, cancelled = sync_inbox(session, instance, workflow, item, ctx, now)
    sync_timers(session, instance, workflow, ctx.before)
    # A person's step changes which steps are open, so the item's light follows at once; what timers
    # do is left to the tick that fired them, which recomputes every light and audits the changes.
    if item.status == STATUS_OPEN and ctx.completed_task_id:
        known = ctx.other_due is not UNKNOWN and not cancelled
        refresh_light(engine, session, item, now,
                      min([d for d in (ctx.other_due, *new_dues) if d], default=None) if known else UNKNOWN)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("该事项已被他人同时处理，您的操作未生效，请刷新后重试") from None
    if ctx.closed:  # its closure record (销号单) is made after commit (engine/closure/records.py)
        record(session, ItemClosed(item.id, ctx.actor_id))
    if ctx.reopened:
        _restart_path(engine, session, instance, item)
    if instance.completed:
        hook = ON_COMPLETED.get(session.get(ProcessVersion, instance.version_id).process_id)
        if hook is not None:
            hook(engine, session, instance, item)


_INSTANCES = ProcessInstance.__table__
# The save of every step, built once: the new state if the revision is still the one this action read.
SAVE_STATE = _INSTANCES.update().where(
    _INSTANCES.c.id == bindparam("instance_id"), _INSTANCES.c.revision == bindparam("read_revision")
).values({name: bindparam(f"new_{name}") for name in ("state", "completed", "tree_depth", "tree_size", "updated_at",
                                                       "revision")})


def _save_state(session: Session, instance: ProcessInstance, **values) -> None:
    """Write the instance's new state with a revision check (a second writer of the same instance gets a
    Conflict), as one Core UPDATE; the object is told the new values as committed, not left dirty."""
    state = inspect(instance)
    if state.pending or state.modified:
        session.flush()  # a freshly added instance is inserted, a migrated one's new version written, first
    revision = instance.revision
    values["revision"] = revision + 1
    saved = session.execute(SAVE_STATE, {"instance_id": instance.id, "read_revision": revision,
                                         **{f"new_{name}": value for name, value in values.items()}}).rowcount
    if saved != 1:
        raise Conflict("该事项已被他人同时处理，您的操作未生效，请刷新后重试")
    for name, value in values.items():
        set_committed_value(instance, name, value)


def _restart_path(engine: Engine, session: Session, instance: ProcessInstance, item: Item) -> None:
    """An item reopened by another process (a 回头看 that found a rebound) is rectified again on its
    own path, from the start, to its new deadline — unless that path still runs (a long-term path
    reopens itself)."""
    path = PROCESS_OF_CATEGORY[item.category]
    if session.get(ProcessVersion, instance.version_id).process_id == path:
        return
    running = session.execute(
        select(ProcessInstance.id).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        .where(ProcessInstance.item_id == item.id, ProcessInstance.completed.is_(False),
               ProcessVersion.process_id == path)).first()
    if running is None:
        today = engine.lights.local_date(CLOCK.now())
        plan_due = min(add_months(today, 1), item.deadline)
        start_instance(engine, session, item, data={"reopened": True, "plan_due": plan_due.isoformat()})


def _kind(task_spec) -> str:
    name = type(task_spec).__name__
    if task_spec.manual:
        return "signoff" if is_signoff(task_spec) else "user"
    for marker, kind in (("Gateway", "gateway"), ("Event", "event"), ("Script", "script"), ("SubWorkflow", "subprocess")):
        if marker in name:
            return kind
    return "other"


def _record_engine_steps(session, instance, item, ctx: RunContext, now: datetime) -> None:
    """The caller's records (the person's step) and the engine steps', in one insert."""
    rows = ctx.records + engine_step_rows(instance.id, item.id, ctx, now)
    if rows:
        session.execute(TaskRecord.__table__.insert(), rows)
        seal_records(session, rows)


def engine_step_rows(instance_id: int, item_id: int, ctx: RunContext, now: datetime) -> list[dict]:
    return [{
        "task_id": str(task.id), "instance_id": instance_id, "item_id": item_id, "bpmn_id": step_id(task.task_spec),
        "name": step_name(task.task_spec), "kind": _kind(task.task_spec), "outcome": "completed",
        "completed_by": None, "completed_at": now, "data": None,
    } for task in ctx.engine_steps
        # SpiffWorkflow's own helper tasks are not steps a user would recognise
        if getattr(task.task_spec, "bpmn_id", None) and not isinstance(task.task_spec, LoopTask)]


def add_history_entry(session: Session, instance_id: int, item_id: int, bpmn_id: str, name: str, kind: str,
                      outcome: str, actor_id: int, now: datetime, data: dict) -> None:
    """A line in an item's history that is no step of its process (转办, 移交, 督办), sealed like a step's."""
    row = {"task_id": str(uuid4()), "instance_id": instance_id, "item_id": item_id, "bpmn_id": bpmn_id, "name": name,
           "kind": kind, "outcome": outcome, "completed_by": actor_id, "completed_at": now, "data": data}
    session.execute(insert(TaskRecord), [row])
    seal_records(session, [row])


def _apply_item_status(engine: Engine, session: Session, item: Item, ctx: RunContext, now: datetime) -> None:
    """`itemStatus` markers in the BPMN close (销号) or reopen the item."""
    for task in ctx.engine_steps:
        status = properties_of(task.task_spec).get(PROP_ITEM_STATUS)
        if not status:
            continue
        if status == STATUS_CLOSED:
            item.status, item.closed_at, item.light = STATUS_CLOSED, now, CLOSED
            ctx.closed = True
        elif status == STATUS_OPEN:
            deadline = task.data.get("deadline")
            if deadline and date.fromisoformat(str(deadline)[:10]) != item.deadline:
                old, item.deadline = item.deadline, date.fromisoformat(str(deadline)[:10])
                record(session, DeadlineChanged(item.id, old.isoformat(), item.deadline.isoformat()))
            item.status, item.closed_at = STATUS_OPEN, None
            item.light = engine.lights.for_round(item.round).light(item.deadline, STATUS_OPEN, now)
            record(session, ItemReopened(item.id, item.deadline.isoformat()))
            ctx.reopened = True
        else:
            raise EngineError(f"流程中的 itemStatus「{status}」无效（只能是 {STATUS_CLOSED} 或 {STATUS_OPEN}）")


