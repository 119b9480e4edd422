"""Who may do what with rounds (docs/domain.md, roles), for the web UI: each function checks the signed-in
user's roles, then calls the engine function that does the work.

  整改办, 管理员                                 create and edit rounds and their report text; import ledgers
  整改办, 管理员, 分管领导, 主要领导, 纪检监察    export ledgers
  everyone signed in                            the round list and pages, the dashboard, the progress report
                                                (body-wide figures and the published report, not unit-limited)

A ledger upload is kept between its preview and its confirmation in the instance folder, by its
SHA-256 (`uploads/`); the confirmation names it by that hash and the import plans it afresh."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import case, func, select

from engine.access.items import require_role, viewer
from engine.errors import InvalidInput, NotFound
from engine.ledger.aspects import AspectEdit, edit_aspects, list_aspects
from engine.ledger.rounds import _round_value, add_round, find_round, round_view, update_round
from engine.ledger.xlsx.export import export_ledger
from engine.ledger.xlsx.importing import LedgerRefused, RoleChangesUnconfirmed, preview_import
from engine.ledger.xlsx.jobs import get_job, queue_import
from engine.reports.dashboard import dashboard
from engine.reports.progress import progress_pdf_file, progress_report, render_progress_html
from engine.store.models import (
    ADMIN,
    DISCIPLINE,
    HEAD,
    LEADER,
    OFFICE,
    STATUS_CLOSED,
    STATUS_WITHDRAWN,
    Aspect,
    Item,
    Round,
    User,
)

if TYPE_CHECKING:
    from engine.core import Engine

MANAGERS = (OFFICE, ADMIN)
EXPORTERS = (OFFICE, ADMIN, LEADER, HEAD, DISCIPLINE)
MAX_LEDGER_BYTES = 10 * 1024 * 1024
ROUND_FORM_FIELDS = ("name", "group", "body", "inspection_start", "inspection_end", "feedback_date")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def permissions(user: User) -> dict[str, bool]:
    """What the page may offer the user: `manage` (create, edit, import) and `export`."""
    return {"manage": bool(user.roles & set(MANAGERS)), "export": bool(user.roles & set(EXPORTERS))}


def _rate_text(closed: int, total: int) -> str:
    return f"{closed / total * 100:.1f}%" if total else "—"


def _counted(query):
    closed = func.sum(case((Item.status == STATUS_CLOSED, 1), else_=0))
    return query.add_columns(func.count(Item.id), closed)


def rounds_for(engine: Engine, user_id: int) -> dict:
    """Every round with its item count and 销号率, newest first, and what the user may do."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        counts = {rid: (total, int(closed or 0)) for rid, total, closed in session.execute(
            _counted(select(Item.round_id)).where(Item.status != STATUS_WITHDRAWN).group_by(Item.round_id))}
        rounds = []
        for round_ in session.execute(select(Round).order_by(Round.feedback_date.desc(), Round.id.desc())).scalars():
            total, closed = counts.get(round_.id, (0, 0))
            rounds.append(round_view(round_) | {"total": total, "closed": closed,
                                                "closing_rate_text": _rate_text(closed, total)})
        return {"rounds": rounds, "can": permissions(user)}


def round_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """A round's fields and report text, its aspects with item counts, and what the user may do."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        round_ = find_round(session, round_id)
        # Every aspect (an empty one too: 整改办 may have just added it), then items without one.
        rows = session.execute(_counted(select(Aspect.id, Aspect.title)).select_from(Aspect)
                               .outerjoin(Item, (Item.aspect_id == Aspect.id) & (Item.status != STATUS_WITHDRAWN))
                               .where(Aspect.round_id == round_.id)
                               .group_by(Aspect.id, Aspect.title, Aspect.position)
                               .order_by(Aspect.position, Aspect.id)).all()
        rows += [(None, None, total, closed) for total, closed in session.execute(
            _counted(select()).select_from(Item).where(Item.round_id == round_.id, Item.aspect_id.is_(None),
                                                       Item.status != STATUS_WITHDRAWN))
            if total]
        aspects = [{"id": aid, "title": title or "（未分方面）", "total": total, "closed": int(closed or 0),
                    "closing_rate_text": _rate_text(int(closed or 0), total)} for aid, title, total, closed in rows]
        total, closed = sum(a["total"] for a in aspects), sum(a["closed"] for a in aspects)
        return round_view(round_) | {"aspects": aspects, "total": total, "closed": closed,
                                     "closing_rate_text": _rate_text(closed, total), "can": permissions(user)}


def round_to_manage_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """The round's fields, for a page only 整改办 and 管理员 may open (editing, importing)."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        return round_view(find_round(session, round_id))


def aspects_to_manage_for(engine: Engine, user_id: int, round_id: int) -> tuple[dict, list[dict]]:
    """The round and its aspects with item counts, for 整改办 and 管理员."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        return round_view(find_round(session, round_id)), list_aspects(engine, round_id)


def edit_aspects_for(engine: Engine, user_id: int, round_id: int, edits: list[AspectEdit]) -> list[dict]:
    """Add, rename, reorder and remove (empty) aspects, all or nothing."""
    with engine.db.transaction() as session:
        return edit_aspects(engine, round_id, edits, require_role(session, user_id, *MANAGERS).name)


def _round_values(values: dict[str, str]) -> dict:
    """Form text checked and converted field by field; every wrong field named at once."""
    clean, errors = {}, {}
    for key, value in values.items():
        try:
            clean[key] = _round_value(key, value)
        except InvalidInput as exc:
            errors.update(exc.field_errors)
    if clean.get("inspection_start") and clean.get("inspection_end") and clean["inspection_end"] < clean["inspection_start"]:
        errors["inspection_end"] = "巡察结束日期不能早于开始日期"
    if errors:
        raise InvalidInput("请检查标出的内容", errors)
    return clean


def create_round_for(engine: Engine, user_id: int, values: dict[str, str]) -> dict:
    """A new round from the form's text (name, group, body, inspection dates, feedback date)."""
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        clean = _round_values({key: values.get(key, "") for key in ROUND_FORM_FIELDS})
        return add_round(engine, clean.pop("name"), clean.pop("group"), clean.pop("body"), clean.pop("feedback_date"),
                         actor=actor, **clean)


def update_round_for(engine: Engine, user_id: int, round_id: int, values: dict[str, str]) -> dict:
    """Edit a round's fields and report text from the form's text (keys as round_view names them)."""
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        return update_round(engine, round_id, _round_values(values), actor)


def import_preview_for(engine: Engine, user_id: int, round_id: int, data: bytes) -> dict:
    """What importing the uploaded ledger would create, or every problem with it. A file that could be
    imported is kept (by SHA-256, returned as `sha256`) for the confirmation; nothing else is written."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        if not data:
            raise InvalidInput("请选择要导入的台账文件（.xlsx）", {"file": "未选择文件或文件为空"})
        if len(data) > MAX_LEDGER_BYTES:
            raise InvalidInput("台账文件过大", {"file": f"台账文件不能超过 {MAX_LEDGER_BYTES // (1024 * 1024)} MB"})
        plan = preview_import(engine, round_id, data).as_dict()
    plan["sha256"] = engine.uploads.put(data) if plan["ok"] else None
    return plan


def _kept_upload(engine: Engine, sha256: str) -> bytes:
    if not _SHA256.fullmatch(sha256 or ""):
        raise InvalidInput("未找到待导入的台账，请重新上传")
    try:
        return engine.uploads.read(sha256, verify=True)
    except NotFound:
        raise NotFound("待导入的台账已不存在，请重新上传") from None


def queue_import_for(engine: Engine, user_id: int, round_id: int, sha256: str, file_name: str = "",
                     allow_role_changes: bool = False) -> dict:
    """Queue the previewed ledger's import (run in the background, all or nothing). Roles the file
    would give existing people must be confirmed now: the preview is shown again if they are not."""
    with engine.db.transaction() as session:
        actor = require_role(session, user_id, *MANAGERS).name
        data = _kept_upload(engine, sha256)
        plan = preview_import(engine, round_id, data)
        if plan.problems:
            raise LedgerRefused(plan.problems)
        if plan.role_grants and not allow_role_changes:
            raise RoleChangesUnconfirmed(plan.role_grants)
        return queue_import(engine, round_id, sha256, actor, file_name, allow_role_changes)


def import_job_for(engine: Engine, user_id: int, job_id: int) -> dict:
    """An import job's state and progress, for 整改办 and 管理员."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        return get_job(engine, job_id)


def import_preview_again_for(engine: Engine, user_id: int, round_id: int, sha256: str) -> dict:
    """The preview of a ledger already uploaded (kept by its SHA-256)."""
    with engine.db.reading() as session:
        require_role(session, user_id, *MANAGERS)
        return preview_import(engine, round_id, _kept_upload(engine, sha256)).as_dict() | {"sha256": sha256}


def export_for(engine: Engine, user_id: int, round_id: int) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of the round's ledger."""
    with engine.db.reading() as session:
        require_role(session, user_id, *EXPORTERS)
        name = find_round(session, round_id).name
        today = engine.lights.local_date(engine.clock.now()).isoformat()
        return f"{name}-整改台账-{today}.xlsx", export_ledger(engine, round_id)


def dashboard_for(engine: Engine, user_id: int, round_id: int | None = None) -> dict:
    """The dashboard figures (body-wide, as the published report gives them) for one round or all
    rounds, and what the user may do. The list of overdue items names only items the user may open:
    an officer sees their own unit's (docs/domain.md, roles)."""
    with engine.db.reading() as session:
        user = viewer(session, user_id)
        can, own_unit = permissions(user), None if user.sees_all_units else (user.unit.id, user.unit.name)
        figures = dashboard(engine, round_id, own_unit[0] if own_unit else None)
    return figures | {"can": can, "overdue_unit": own_unit[1] if own_unit else None}


def report_for(engine: Engine, user_id: int, round_id: int) -> dict:
    """The public progress report as plain values and as its standalone HTML page."""
    with engine.db.reading() as session:
        viewer(session, user_id)
        report = progress_report(engine, round_id)
    return {"report": report, "html": render_progress_html(report)}


def report_pdf_for(engine: Engine, user_id: int, round_id: int) -> tuple[str, BinaryIO]:
    """(file name, PDF) of the public progress report: a rewound temporary file, to stream and close (a
    2,000-item round's report is laid out a window at a time, never held whole in memory)."""
    with engine.db.reading() as session:
        viewer(session, user_id)
        report = progress_report(engine, round_id)
    return f"{report['round']['name']}-整改进展情况公布.pdf", progress_pdf_file(report)
