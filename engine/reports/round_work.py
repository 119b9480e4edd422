"""What a round has done beyond closing items, counted in SQL for the dashboard and listed for the
reports: rules made or revised (建章立制) and look-back results (回头看: checked, confirmed, rebounded).

A rule is a step record carrying a 文号 (`doc_number`) and a name (`title`), as the 建章立制 form
records it, or an office record of kind 制定制度/修订制度; each counts once, by 文号 (else by name).
A look-back is a completed step record carrying `rebound` (the 回头看核查 form): on a long-term path as
it is recorded, in a 回头看 that 整改办 started once its leader signed it."""
from __future__ import annotations

from sqlalchemy import select, text

from engine.ledger.activities import RULE_KINDS, RoundActivity
from engine.ledger.lookbacks import REBOUNDED, outcomes
from engine.process.instances import LOOKBACK_PROCESS
from engine.store.models import Item, ProcessInstance, ProcessVersion, TaskRecord


def _scoped(query, round_id: int | None):
    return query.where(Item.round_id == round_id) if round_id is not None else query


def recorded(session, key: str):
    """The term that finds the few records whose data has `key` by a partial index: on PostgreSQL the
    cast text (migration 0023), on SQLite `json_extract` with the literal path (0025), which SQLite
    matches only to the same text."""
    if session.get_bind().dialect.name == "sqlite":
        return text(f"json_extract(task_records.data, '$.{key}') IS NOT NULL")
    return TaskRecord.data[key].as_string().is_not(None)


def rule_rows(session, round_id: int | None) -> list[dict]:
    """Every rule made or revised, once: {"title", "doc_number", "issued_on", "kind", "source"}."""
    doc_number = TaskRecord.data["doc_number"].as_string()
    records = session.execute(_scoped(
        select(TaskRecord.data, Item.number).join(Item, Item.id == TaskRecord.item_id)
        .where(TaskRecord.kind == "user", TaskRecord.outcome == "completed", recorded(session, "doc_number"),
               doc_number.is_not(None), doc_number != "")
        .order_by(TaskRecord.id), round_id)).all()
    activities = session.execute(
        select(RoundActivity).where(RoundActivity.kind.in_(RULE_KINDS),
                                    *([RoundActivity.round_id == round_id] if round_id is not None else []))
        .order_by(RoundActivity.held_on, RoundActivity.id)).scalars()
    seen, rows = set(), []
    for data, number in records:
        if not str(data.get("title") or "").strip():
            continue
        key = str(data["doc_number"]).strip() or str(data["title"]).strip()
        if key not in seen:
            seen.add(key)
            rows.append({"title": data["title"], "doc_number": data["doc_number"], "issued_on": str(data.get("issued_on") or ""),
                         "kind": "制定", "source": f"第{number}号问题"})
    for a in activities:
        key = a.doc_number or a.topic
        if key not in seen:
            seen.add(key)
            rows.append({"title": a.topic, "doc_number": a.doc_number, "issued_on": a.held_on.isoformat(),
                         "kind": a.kind[:2], "source": "整改工作记录"})
    return rows


def lookback_results(session, round_id: int | None) -> dict:
    """{"checked", "confirmed", "rebounded", "rebound_rate"}: every 回头看核查 of a long-term path, and
    every 回头看 that 整改办 started once its leader approved the check (a check sent back counts once,
    when done again and approved)."""
    rebound = TaskRecord.data["rebound"].as_boolean()
    rows = session.execute(_scoped(
        select(TaskRecord.instance_id, rebound, ProcessVersion.process_id).join(Item, Item.id == TaskRecord.item_id)
        .join(ProcessInstance, ProcessInstance.id == TaskRecord.instance_id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
        # The indexed term first (the boolean cast alone matches no partial index).
        .where(TaskRecord.kind == "user", TaskRecord.outcome == "completed",
               recorded(session, "rebound"), rebound.is_not(None)), round_id)).all()
    found = [bool(r) for _, r, process in rows if process != LOOKBACK_PROCESS]
    campaigns = {instance_id for instance_id, _, process in rows if process == LOOKBACK_PROCESS}
    found += [result == REBOUNDED for result, _ in outcomes(session, list(campaigns)).values()]
    checked, rebounded = len(found), sum(found)
    return {"checked": checked, "confirmed": checked - rebounded, "rebounded": rebounded,
            "rebound_rate": round(rebounded / checked, 4) if checked else None}
