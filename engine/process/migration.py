"""Migrating running items to a newer version of their process: a preview that says, item by item,
whether it can move and why not (engine/process/respec.py holds the rules); then the chosen items
move, each in its own transaction, recorded in the audit log and in the item's history, its inbox,
timers and light right at once. A migration can be reverted while nothing has happened to the
instance since (its revision is what it was right after the move)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.clock import CLOCK
from engine.errors import Conflict, EngineError, InvalidInput, NotFound
from engine.ledger.relight import refresh_light
from engine.process import respec
from engine.process.bpmn import form_key_of, is_signoff
from engine.process.designs import acting_person
from engine.process.instances import (
    RunContext,
    add_history_entry,
    advance,
    find_task,
    load_workflow,
    version_spec,
)
from engine.process.mirror import due_date_of, task_label
from engine.store import audit
from engine.store.models import (
    DESIGNER,
    STATUS_OPEN,
    Base,
    InboxTask,
    Item,
    ProcessInstance,
    ProcessVersion,
)

if TYPE_CHECKING:
    from engine.core import Engine

HISTORY_STEP = "version_migration"  # the bpmn_id of the history lines a migration writes


class InstanceMigration(Base):
    """One instance moved to another version, with the state to go back to."""

    __tablename__ = "instance_migrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    state_before: Mapped[str] = mapped_column(Text)
    revision_after: Mapped[int] = mapped_column(Integer)  # the instance's revision right after the move
    migrated_by: Mapped[str] = mapped_column(String(100))
    migrated_at: Mapped[datetime]
    reverted_at: Mapped[Optional[datetime]]
    reverted_by: Mapped[Optional[str]] = mapped_column(String(100))


def _target(session: Session, process_id: str, to_version: int) -> ProcessVersion:
    target = session.get(ProcessVersion, to_version)
    if target is None or target.process_id != process_id:
        raise InvalidInput(f"流程「{process_id}」没有版本 {to_version}", {"to": f"流程「{process_id}」没有版本 {to_version}"})
    return target


def _candidates(session: Session, process_id: str, target: ProcessVersion, item_ids) -> list[tuple[int, int]]:
    """(instance id, item id) of the process's running instances not on the target version."""
    query = (select(ProcessInstance.id, ProcessInstance.item_id).join(ProcessVersion)
             .where(ProcessVersion.process_id == process_id, ProcessInstance.completed.is_(False),
                    ProcessInstance.version_id != target.id).order_by(ProcessInstance.item_id, ProcessInstance.id))
    if item_ids is not None:
        query = query.where(ProcessInstance.item_id.in_(list(item_ids)))
    return [tuple(row) for row in session.execute(query)]


class _Trial:
    """Loads an instance and tries the move in memory (spec diffs made once per pair of versions)."""

    def __init__(self, engine: Engine, session: Session, target: ProcessVersion, diffs: dict | None = None):
        self.engine, self.session, self.target = engine, session, target
        self.new = version_spec(engine, session, target.id)
        self.diffs: dict[int, respec.SpecDiffs] = {} if diffs is None else diffs  # by the version moved from

    def run(self, instance: ProcessInstance):
        """(reasons, the moved workflow reloaded with the new spec, or None)."""
        if instance.version_id > self.target.id:
            return [f"已在较新的版本 {instance.version_id} 上运行，只能迁往更新的版本"], None
        try:
            if instance.version_id not in self.diffs:
                old = version_spec(self.engine, self.session, instance.version_id)
                self.diffs[instance.version_id] = respec.SpecDiffs(self.engine.processes.registry, old, self.new)
            workflow, _ = load_workflow(self.engine, instance)
            reasons = respec.problems(self.diffs[instance.version_id], workflow)
            if reasons:
                return reasons, None
            respec.migrate(self.diffs[instance.version_id], workflow)
            return [], self.engine.processes.loads(self.engine.processes.dumps(workflow), self.new)
        except respec.CannotMove as exc:
            return [str(exc)], None
        except Exception as exc:  # noqa: BLE001 — whatever SpiffWorkflow says, the item stays put
            return [f"迁移试算未通过：{type(exc).__name__}: {exc}"], None


def _row(session: Session, item: Item, instance: ProcessInstance, target: ProcessVersion, reasons: list[str]) -> dict:
    steps = session.execute(select(InboxTask.name).where(InboxTask.instance_id == instance.id)
                            .order_by(InboxTask.created_at, InboxTask.id)).scalars().all()
    return {"item_id": item.id, "number": item.number, "title": item.title, "round": item.round.name,
            "instance_id": instance.id, "from_version": instance.version_id, "to_version": target.id,
            "movable": not reasons, "reasons": reasons, "open_steps": list(steps)}


def migration_preview(engine: Engine, process_id: str, to_version: int, item_ids=None) -> list[dict]:
    """Per running instance of the process not on `to_version` (only the given items' if any):
    {item_id, number, title, round, instance_id, from_version, to_version, movable, reasons, open_steps}."""
    with engine.db.reading() as session:
        target = _target(session, process_id, to_version)
        trial = _Trial(engine, session, target)
        rows = []
        for instance_id, item_id in _candidates(session, process_id, target, item_ids):
            instance, item = session.get(ProcessInstance, instance_id), session.get(Item, item_id)
            reasons, _moved = trial.run(instance)
            rows.append(_row(session, item, instance, target, reasons))
        return rows + _absent(session, process_id, target, item_ids, rows)


def _absent(session: Session, process_id: str, target: ProcessVersion, item_ids, rows: list[dict]) -> list[dict]:
    """Rows for items asked for that have no running instance of the process on another version."""
    listed = {r["item_id"] for r in rows}
    absent = []
    for item_id in [i for i in dict.fromkeys(item_ids or []) if i not in listed]:
        item = session.get(Item, item_id)
        absent.append({"item_id": item_id, "number": item.number if item else None, "title": item.title if item else None,
                       "round": item.round.name if item else None, "instance_id": None, "from_version": None,
                       "to_version": target.id, "movable": False, "migrated": False, "migration_id": None,
                       "open_steps": [], "reasons": [f"找不到问题 {item_id}" if item is None else
                                                     f"该问题没有在流程「{process_id}」其他版本上运行的实例"]})
    return absent


def migrate_items(engine: Engine, process_id: str, to_version: int, item_ids=None, actor_id: int | None = None) -> list[dict]:
    """Move the process's running instances (only the given items' if any) to `to_version`, each in
    its own transaction; one that cannot move stays, with its reasons. Per instance the preview's row
    plus {migrated, migration_id}. A 流程设计's act (None: the operator at the command line)."""
    with engine.db.reading() as session:
        acting_person(session, actor_id, {DESIGNER}, "迁移流程实例")
        target = _target(session, process_id, to_version)
        candidates = _candidates(session, process_id, target, item_ids)
    results, diffs = [], {}
    for instance_id, item_id in candidates:
        try:
            results.append(_migrate_one(engine, instance_id, to_version, actor_id, diffs))
        except EngineError as exc:
            results.append({"item_id": item_id, "instance_id": instance_id, "to_version": to_version, "movable": False,
                            "migrated": False, "migration_id": None, "reasons": [exc.message]})
    with engine.db.reading() as session:
        return results + _absent(session, process_id, session.get(ProcessVersion, to_version), item_ids, results)


def _migrate_one(engine: Engine, instance_id: int, to_version: int, actor_id: int | None, diffs: dict) -> dict:
    with engine.db.transaction() as session:
        name, user_id = acting_person(session, actor_id, {DESIGNER}, "迁移流程实例")
        instance = session.get(ProcessInstance, instance_id, with_for_update={"of": ProcessInstance}, populate_existing=True)
        target = session.get(ProcessVersion, to_version)
        item = session.get(Item, instance.item_id)
        if instance.completed or instance.version_id == target.id:
            return _row(session, item, instance, target, ["该流程实例已结束或已在目标版本上"]) | {
                "migrated": False, "migration_id": None}
        reasons, moved = _Trial(engine, session, target, diffs).run(instance)
        row = _row(session, item, instance, target, reasons)
        if reasons:
            return row | {"migrated": False, "migration_id": None}
        before, from_version = instance.state, instance.version_id
        instance.version_id, instance.version = target.id, target
        _resync(engine, session, instance, moved, item, user_id)
        migration = InstanceMigration(instance_id=instance.id, item_id=item.id, from_version_id=from_version,
                                      to_version_id=target.id, state_before=before, revision_after=instance.revision,
                                      migrated_by=name, migrated_at=CLOCK.now())
        session.add(migration)
        session.flush()
        add_history_entry(session, instance.id, item.id, HISTORY_STEP, f"流程版本迁移：版本 {from_version} → {target.id}",
                          "migration", "completed", user_id, CLOCK.now(),
                          {"from_version": from_version, "to_version": target.id, "by": name, "migration": migration.id})
        audit.append(session, "process.migrate", "process_instance", instance.id, name, item=item.id, number=item.number,
                     process_id=target.process_id, from_version=from_version, to_version=target.id,
                     migration=migration.id)
        return row | {"migrated": True, "migration_id": migration.id}


def _resync(engine: Engine, session: Session, instance: ProcessInstance, workflow, item: Item, user_id) -> None:
    """Save the moved workflow and bring what mirrors it up to date: inbox rows (new names, forms and
    due dates of the same tasks), timers, the item's light. Leaves the instance row flushed."""
    advance(engine, session, instance, workflow, item, RunContext(user_id))
    for row in session.execute(select(InboxTask).where(InboxTask.instance_id == instance.id)).scalars():
        task = find_task(workflow, row.id)
        if task is not None:
            row.name, row.form_key = task_label(task)[:200], form_key_of(task.task_spec)
            row.signoff, row.due_date = is_signoff(task.task_spec), due_date_of(task, item)
    if item.status == STATUS_OPEN:
        refresh_light(engine, session, item, CLOCK.now())
    session.flush()


def revert_migration(engine: Engine, item_id: int, actor_id: int | None = None) -> dict:
    """Put the item's latest migrated instance back on its version as it was, if nothing has happened
    to it since the migration."""
    with engine.db.transaction() as session:
        name, user_id = acting_person(session, actor_id, {DESIGNER}, "撤销流程迁移")
        migration = session.execute(
            select(InstanceMigration).where(InstanceMigration.item_id == item_id, InstanceMigration.reverted_at.is_(None))
            .order_by(InstanceMigration.id.desc()).limit(1)).scalar_one_or_none()
        if migration is None:
            raise NotFound(f"问题 {item_id} 没有可撤销的流程迁移")
        instance = session.get(ProcessInstance, migration.instance_id, with_for_update={"of": ProcessInstance},
                               populate_existing=True)
        if (instance.completed or instance.version_id != migration.to_version_id
                or instance.revision != migration.revision_after):
            raise Conflict("迁移之后该问题已有办理或变动，不能撤销迁移（撤销只在迁移后尚未发生任何事时可行）")
        item = session.get(Item, item_id)
        workflow = engine.processes.loads(migration.state_before, version_spec(engine, session, migration.from_version_id))
        instance.version_id = migration.from_version_id
        instance.version = session.get(ProcessVersion, migration.from_version_id)
        _resync(engine, session, instance, workflow, item, user_id)
        migration.reverted_at, migration.reverted_by = CLOCK.now(), name
        add_history_entry(session, instance.id, item.id, HISTORY_STEP,
                          f"撤销流程版本迁移：版本 {migration.to_version_id} → {migration.from_version_id}", "migration",
                          "reverted", user_id, CLOCK.now(), {"from_version": migration.to_version_id,
                                                             "to_version": migration.from_version_id, "by": name,
                                                             "migration": migration.id})
        audit.append(session, "process.migrate.revert", "process_instance", instance.id, name, item=item.id,
                     number=item.number, migration=migration.id, back_to_version=migration.from_version_id)
        return {"item_id": item.id, "number": item.number, "migration_id": migration.id,
                "version": migration.from_version_id, "reverted_from": migration.to_version_id}
