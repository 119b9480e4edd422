"""The content of a closure record (销号单, docs/domain.md, documents) as plain values read from the database, its
digest, and what differs when the database no longer says the same.

The record is a snapshot taken when the PDF is made. Its `bounds` say which append-only rows it
covers (signatures 1..N, evidence files up to an id, the task records shown as the work), so that
the same record can be recomputed from the database later: every field it shows, recomputed, must
be equal — an altered signature, evidence row, task record or item field breaks the match.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.canonical import digest_of
from engine.people.keys import certificate_pems
from engine.process.bpmn import form_key_of, reviewed_ids, step_id
from engine.process.deploy import all_task_specs, loaded
from engine.store.models import EvidenceFile, Item, ProcessInstance, ProcessVersion, Signature, TaskRecord, User
from engine.work.signoff import DECISION_TEXT, evidence_hashes
from engine.work.superseded import superseded_of

if TYPE_CHECKING:
    from engine.core import Engine

FORMAT = "rectify.closure-record/1"

ITEM_LABELS = {
    "number": "序号", "aspect": "所属方面", "title": "问题", "description": "问题描述", "category": "整改类别",
    "unit": "责任单位", "person": "责任人", "leader": "分管领导", "deadline": "整改时限", "standard": "完成标准",
}
SIGNATURE_LABELS = {
    "step": "环节", "signer": "签字人", "role": "角色", "unit": "单位", "decision": "决定", "opinion": "意见",
    "signed_at": "签字时间", "digest": "摘要", "prev_digest": "前序摘要", "signature": "个人数字签名",
    "certificate": "签字人证书",
}


def record_digest(record: dict) -> str:
    return digest_of(record)


def record_data(engine: Engine, session: Session, item: Item, bounds: dict | None = None) -> dict:
    """The record of a closed item, from the database. Without `bounds`: everything there is now
    (a new record); with the bounds of an earlier record: the same rows again (to verify it)."""
    signatures = _signatures(session, item.id, bounds)
    certificates = certificate_pems(session, [s.certificate_id for s in signatures])
    superseded = superseded_of(session, item.id)
    evidence_rows = _evidence_rows(session, item.id, bounds)
    work = _work(engine, session, item, signatures, bounds)
    return {
        "format": FORMAT,
        "body": item.round.inspected_body,
        "round": {"name": item.round.name, "group": item.round.inspection_group,
                  "feedback_date": item.round.feedback_date.isoformat()},
        "item": {
            "id": item.id, "number": item.number, "aspect": item.aspect.title if item.aspect else "",
            "title": item.title, "description": item.description or "", "category": item.category,
            "unit": item.unit.name, "person": item.person.name, "leader": item.leader.name,
            "deadline": item.deadline.isoformat(), "standard": item.standard or "",
        },
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
        "work": [_work_view(engine, session, r) for r in work],
        "evidence": _evidence_view(session, evidence_rows),
        "signatures": [_signature_view(s, certificates, superseded.get(s.id)) for s in signatures],
        "bounds": {
            "signatures": len(signatures),
            "evidence": max((e.id for e in evidence_rows), default=0),
            "work": [r.task_id for r in work],
        },
    }


# --- signatures -------------------------------------------------------------------------------------------

def _signatures(session: Session, item_id: int, bounds: dict | None) -> list[Signature]:
    query = select(Signature).where(Signature.item_id == item_id).order_by(Signature.seq)
    if bounds is not None:
        query = query.where(Signature.seq <= int(bounds.get("signatures", 0)))
    return list(session.execute(query).scalars())


def _signature_view(s: Signature, certificates: dict[int, str], superseded: dict | None) -> dict:
    view = {
        "seq": s.seq, "step": s.step, "signer": s.signer_name, "role": s.role, "unit": s.unit_name,
        "decision": s.decision, "decision_text": DECISION_TEXT.get(s.decision, s.decision), "opinion": s.opinion,
        "signed_at": s.signed_at.isoformat(), "digest": s.digest, "prev_digest": s.prev_digest,
        # set aside when the item was sent back to an earlier step (退回到任意环节): on the chain, no longer in force
        "superseded": superseded,
    }
    if s.signature:  # the signer's own signature and certificate, verifiable offline against the body's CA
        view |= {"signature": s.signature, "signature_algorithm": s.signature_algorithm,
                 "certificate": certificates.get(s.certificate_id)}
    return view


# --- evidence ---------------------------------------------------------------------------------------------

def _evidence_rows(session: Session, item_id: int, bounds: dict | None) -> list[EvidenceFile]:
    query = select(EvidenceFile).where(EvidenceFile.item_id == item_id).order_by(EvidenceFile.id)
    if bounds is not None:
        query = query.where(EvidenceFile.id <= int(bounds.get("evidence", 0)))
    return list(session.execute(query).scalars())


def _evidence_view(session: Session, rows: list[EvidenceFile]) -> list[dict]:
    """Each file once (a file resubmitted after 退回 is listed where it was first given)."""
    steps = dict(session.execute(select(TaskRecord.task_id, TaskRecord.name).where(
        TaskRecord.task_id.in_({r.task_id for r in rows if r.task_id}))).all()) if rows else {}
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_({r.uploaded_by for r in rows}))).all()) if rows else {}
    seen, listed = set(), []
    for row in rows:
        if (row.sha256, row.name) in seen:
            continue
        seen.add((row.sha256, row.name))
        listed.append({"name": row.name, "size": row.size, "sha256": row.sha256, "step": steps.get(row.task_id, ""),
                       "by": names.get(row.uploaded_by, ""), "at": row.uploaded_at.isoformat()})
    return listed


# --- the work the closing sign-off approved -----------------------------------------------------------------

def _specs_by_id(engine: Engine, version: ProcessVersion) -> dict:
    spec = loaded(engine, version)
    return {step_id(t): t for t in all_task_specs(spec.spec, spec.subprocess_specs)}


def _work(engine: Engine, session: Session, item: Item, signatures: list[Signature], bounds: dict | None) -> list[TaskRecord]:
    if bounds is not None:
        wanted = list(bounds.get("work", []))
        rows = session.execute(select(TaskRecord).where(TaskRecord.item_id == item.id, TaskRecord.task_id.in_(wanted))
                               .order_by(TaskRecord.id)).unique().scalars().all() if wanted else []
        return list(rows)
    return approved_work(engine, session, item, signatures)


def approved_work(engine: Engine, session: Session, item: Item, signatures: list[Signature]) -> list[TaskRecord]:
    """The latest round of the work the closing sign-off reviewed (the steps named in its `reviews`
    property, or every user step): the officer's measures and results, a third-party evaluation's
    conclusion, as finally approved. No step names are hard-coded; a resubmission after 退回
    replaces the work it resubmits."""
    done = select(TaskRecord).where(
        TaskRecord.item_id == item.id, TaskRecord.outcome == "completed", TaskRecord.completed_by.is_not(None),
    ).order_by(TaskRecord.id)
    gate = None
    if signatures:
        gate = session.execute(select(TaskRecord).where(TaskRecord.task_id == signatures[-1].task_id)).unique().scalar_one_or_none()
    reviewed: list[str] = []
    if gate is not None:
        version = session.get(ProcessVersion, _version_id(session, gate.instance_id))
        task_spec = _specs_by_id(engine, version).get(gate.bpmn_id)
        reviewed = reviewed_ids(task_spec) if task_spec is not None else []
    query = done.where(TaskRecord.kind == "user")
    if gate is not None:
        query = query.where(TaskRecord.id < gate.id)
    if reviewed:
        query = query.where(TaskRecord.bpmn_id.in_(reviewed))
    candidates = list(session.execute(query).unique().scalars())
    if not candidates:
        return []
    gates = list(session.execute(select(TaskRecord.id).where(
        TaskRecord.item_id == item.id, TaskRecord.kind == "signoff").order_by(TaskRecord.id)).scalars())
    # Per reviewed step, its latest batch: what was done after the last sign-off that preceded the
    # step's latest piece of work (a multi-instance step's several records stay together).
    latest: dict[str, int] = {}
    for record in candidates:
        latest[record.bpmn_id] = record.id
    boundary = {step: max((g for g in gates if g < last), default=0) for step, last in latest.items()}
    return [r for r in candidates if r.id > boundary[r.bpmn_id]]


def _version_id(session: Session, instance_id: int) -> int:
    return session.execute(select(ProcessInstance.version_id).where(ProcessInstance.id == instance_id)).scalar_one()


def _work_view(engine: Engine, session: Session, record: TaskRecord) -> dict:
    version = session.get(ProcessVersion, _version_id(session, record.instance_id))
    task_spec = _specs_by_id(engine, version).get(record.bpmn_id)
    key = form_key_of(task_spec) if task_spec is not None else None
    schema = ((version.forms or {}).get(key) or {}) if key else {}
    return {"task_id": record.task_id, "step": record.name, "by": record.user.name if record.user else "",
            "at": record.completed_at.isoformat(), "fields": form_fields(schema, record.data or {})}


def form_fields(schema: dict, data: dict) -> list[list[str]]:
    """[label, text] for each filled-in field, in the form's order; evidence is listed separately."""
    properties = schema.get("properties") or {}
    keys = [k for k in properties if k in data] + sorted(k for k in data if k not in properties)
    fields = []
    for key in keys:
        value = data[key]
        if key.startswith("_") or value in (None, "", [], {}) or evidence_hashes(value):
            continue
        sub = properties.get(key) or {}
        fields.append([sub.get("title") or key, value_text(value, sub)])
    return fields


def value_text(value: Any, schema: dict | None = None) -> str:
    schema = schema or {}
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(value_text(v, schema.get("items") or {}) for v in value)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return "，".join(f"{(properties.get(k) or {}).get('title') or k}：{value_text(v, properties.get(k))}"
                        for k, v in value.items() if v not in (None, ""))
    for option in schema.get("oneOf") or []:
        if isinstance(option, dict) and option.get("const") == value and option.get("title"):
            return str(option["title"])
    return str(value)


# --- comparing a record with the database ------------------------------------------------------------------

def differences(shown: dict, current: dict) -> tuple[list[str], list[str]]:
    """(mismatches, later changes) between a record as signed and the database today.

    Mismatches are in what the record proves and the database keeps append-only — the signatures,
    the evidence files, the work done: any difference there means the record or the database was
    tampered with. Later changes are in what people may rightly edit after closing (the round's
    巡察组 or the body's name, an item's 方面 title or fields after an approved change, a reopening):
    the record shows what was true when it was signed, and the differences are told as information."""
    if shown.get("format") != FORMAT:
        return [f"销号单数据格式未知（{shown.get('format')}）"], []
    mismatches, later = [], []
    if shown.get("body") != current["body"] or shown.get("round") != current["round"]:
        later.append("巡察轮次或单位信息此后有修改")
    for key, label in ITEM_LABELS.items():
        if (shown.get("item") or {}).get(key) != current["item"][key]:
            later.append(f"问题的「{label}」此后有修改（销号单：{_brief((shown.get('item') or {}).get(key))}；"
                         f"现为：{_brief(current['item'][key])}）")
    if shown.get("closed_at") != current["closed_at"]:
        later.append("该问题在此销号单生成后已被重新打开，现为整改中" if current["closed_at"] is None
                     else "该问题此后重新打开并再次销号（以最新的销号单为准）")
    signature_mismatches, signature_later = _signature_differences(shown.get("signatures") or [], current["signatures"])
    mismatches, later = mismatches + signature_mismatches, later + signature_later
    if shown.get("evidence") != current["evidence"]:
        shown_files = {(e.get("name"), e.get("sha256")) for e in shown.get("evidence") or []}
        db_files = {(e["name"], e["sha256"]) for e in current["evidence"]}
        missing = [name for name, _ in shown_files - db_files]
        detail = f"：数据库中找不到 {'、'.join(sorted(missing))}" if missing else ""
        mismatches.append(f"佐证材料清单与数据库不一致{detail}")
    if shown.get("work") != current["work"]:
        mismatches.append("整改措施及成效（办理记录）与数据库不一致")
    return mismatches, later


def _signature_differences(shown: list[dict], current: list[dict]) -> tuple[list[str], list[str]]:
    """(mismatches, later changes) of the signatures. A 取代 mark is append-only: one the database has and
    the record has not was made after it (a later 退回); one the record shows differently, or the database
    lacks, was tampered with. Records made before the marks were shown carry no `superseded` key."""
    reasons, later = [], []
    if len(shown) != len(current):
        reasons.append(f"签字记录数量不一致（销号单 {len(shown)} 个，数据库 {len(current)} 个）")
    for mine, theirs in zip(shown, current):
        changed = [label for key, label in SIGNATURE_LABELS.items() if mine.get(key) != theirs.get(key)]
        if "superseded" in mine and mine["superseded"] != theirs["superseded"]:
            if mine["superseded"] is None:
                later.append(f"第 {theirs['seq']} 个签字（{mine.get('signer')}）此后因退回重办被取代")
            else:
                changed.append("退回重办取代标记")
        if changed:
            reasons.append(f"第 {theirs['seq']} 个签字（{mine.get('signer')}）的{'、'.join(changed)}与数据库不一致")
    return reasons, later


def _brief(value: Any) -> str:
    text = str(value if value is not None else "")
    return text if len(text) <= 30 else text[:30] + "…"
