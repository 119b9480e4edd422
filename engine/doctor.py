"""`rectify doctor`: checks a live database for every inconsistency the engine's guarantees rule out,
and names each one. Nothing is changed.

  instances    every running instance loads, and its ready human tasks are exactly its inbox rows
  tasks        every open task has somebody who may complete it (an active holder who did not do
               the work it reviews)
  signatures   every signature has its completed sign-off step and every completed sign-off step its
               signature; every item's chain of signatures is unbroken
  outbox       no event waits unhandled for longer than an hour, none is failing
  audit        the audit log's hash chain is unbroken
  files        every evidence file and closure record a row names is in the file store (whichever
               backend: disk, database, S3), and with a shared store, no file is left only on this
               machine's disk by an earlier version (engine/store/legacy_disk.py)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import StoreUnavailable
from engine.process.assignment import excluded_by_review, may_complete
from engine.process.bpmn import reviewed_ids
from engine.process.instances import find_task, load_workflow
from engine.process.mirror import human_tasks
from engine.store.audit import verify_chain
from engine.store.backends import engine_stores
from engine.store.file_prune import STORE_TEXT
from engine.store.legacy_disk import WithLegacyDisk
from engine.store.models import Document, EvidenceFile, InboxTask, ProcessInstance, Signature, TaskRecord
from engine.store.outbox import pending
from engine.work.signoff import verify_item_chain

if TYPE_CHECKING:
    from engine.core import Engine

STUCK_AFTER = timedelta(hours=1)


@dataclass
class Finding:
    check: str
    subject: str
    problem: str


@dataclass
class DoctorReport:
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: str, subject: str, problem: str) -> None:
        self.findings.append(Finding(check, subject, problem))

    def as_dict(self) -> dict:
        return {"id": "doctor", "ok": self.ok, "checked": self.checked,
                "findings": [f.__dict__ for f in self.findings]}


def _instances(engine: Engine, session, report: DoctorReport) -> None:
    running = session.execute(select(ProcessInstance).where(ProcessInstance.completed.is_(False))).unique().scalars()
    count = 0
    for instance in running:
        count += 1
        subject = f"问题 {instance.item_id} 的流程实例 {instance.id}"
        try:
            workflow, _ = load_workflow(engine, instance)
        except Exception as exc:  # noqa: BLE001 — the finding is that it does not load
            report.add("instances", subject, f"无法加载：{type(exc).__name__}: {exc}")
            continue
        ready = {str(t.id) for t in human_tasks(workflow)}
        inbox = set(session.execute(select(InboxTask.id).where(InboxTask.instance_id == instance.id)).scalars())
        for task_id in sorted(ready - inbox):
            report.add("instances", subject, f"待办任务 {task_id} 在流程中就绪，但不在待办表中")
        for task_id in sorted(inbox - ready):
            report.add("instances", subject, f"待办表中的任务 {task_id} 在流程中并未就绪")
        for row in session.execute(select(InboxTask).where(InboxTask.instance_id == instance.id)).scalars():
            task = find_task(workflow, row.id)
            reviewed = reviewed_ids(task.task_spec) if task is not None and row.signoff else None
            excluded = excluded_by_review(session, row.item_id, row.bpmn_id, reviewed) if reviewed is not None \
                else frozenset()
            if not may_complete(session, row, excluded):
                report.add("tasks", f"问题 {row.item_id} 的任务「{row.name}」（{row.id}）",
                           "没有任何人可以办理（办理人已停用、没有该角色的人，或只有被审核工作的经办人）")
    report.checked["instances"] = count


def _signatures(session, report: DoctorReport) -> None:
    signed = {task_id: item_id for task_id, item_id in session.execute(select(Signature.task_id, Signature.item_id))}
    steps = {task_id: item_id for task_id, item_id in session.execute(select(TaskRecord.task_id, TaskRecord.item_id)
             .where(TaskRecord.kind == "signoff", TaskRecord.outcome == "completed"))}
    for task_id in sorted(set(signed) - set(steps)):
        report.add("signatures", f"问题 {signed[task_id]} 的签字（任务 {task_id}）", "没有对应的已完成签字环节记录")
    for task_id in sorted(set(steps) - set(signed)):
        report.add("signatures", f"问题 {steps[task_id]} 的签字环节（任务 {task_id}）", "已完成但没有签字记录")
    items = sorted(set(signed.values()))
    for item_id in items:
        chain = verify_item_chain(session, item_id)
        if not chain.ok:
            report.add("signatures", f"问题 {item_id} 的签字链", chain.problem)
    report.checked["signatures"] = len(signed)


def _outbox(engine: Engine, session, report: DoctorReport) -> None:
    now, waiting = engine.clock.now(), pending(session)
    for row in waiting:
        if row.last_error:
            report.add("outbox", f"事件 {row.id}（{row.name}，问题 {row.item_id}）",
                       f"处理失败 {row.attempts} 次：{row.last_error}")
        elif now - row.recorded_at > STUCK_AFTER:
            report.add("outbox", f"事件 {row.id}（{row.name}，问题 {row.item_id}）",
                       "超过 1 小时仍未处理：请确认 rectify tick 或 rectify outbox run 在定时运行")
    report.checked["outbox_pending"] = len(waiting)


def _files(engine: Engine, session, report: DoctorReport) -> None:
    stores, count = engine_stores(engine), 0
    for namespace, table in (("evidence", EvidenceFile), ("documents", Document)):
        store = stores[namespace]
        legacy = store if isinstance(store, WithLegacyDisk) else None
        # one listing of each store, not a look-up a file
        present = {entry.name for entry in (legacy.shared if legacy else store).entries()}
        on_disk = {entry.name for entry in legacy.disk.entries()} if legacy else set()
        left = 0
        for sha256, item_id in sorted(set(session.execute(select(table.sha256, table.item_id)).all())):
            count += 1
            if sha256 in on_disk and sha256 not in present:
                left += 1
            elif sha256 not in present:
                report.add("files", f"问题 {item_id} 的{STORE_TEXT[namespace]} {sha256[:12]}…",
                           f"不在文件库（{store.kind}）中")
        if left:
            report.add("files", f"{STORE_TEXT[namespace]} {left} 个", f"仍只在本机磁盘（{legacy.disk.root}），"
                       f"其他机器读不到：请运行 rectify files migrate --to {store.kind}")
    report.checked["files"] = count


def examine(engine: Engine) -> DoctorReport:
    report = DoctorReport()
    with engine.db.reading() as session:
        _instances(engine, session, report)
        _signatures(session, report)
        _outbox(engine, session, report)
        try:
            _files(engine, session, report)
        except StoreUnavailable as exc:
            report.add("files", "文件库", exc.message)
        chain = verify_chain(session, engine.db.audit_key)
        report.checked["audit_rows"] = chain.rows
        if not chain.ok:
            report.add("audit", f"审计日志第 {chain.first_broken_id} 行", chain.reason)
    return report
