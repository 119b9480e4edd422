"""Task forms edited in the browser designer: each save of a form (forms/KEY.json) is a version —
its JSON text, content hash, author, time and a required comment — kept append-only (database
triggers refuse UPDATE and DELETE). The latest saved version of a key is what validation and the
next deploy read (engine/process/deploy.py snapshots it into the ProcessVersion); a key never saved
is read from settings.forms_path as before. Running items keep the forms of the version they run on."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.canonical import canonical_json, sha256_hex
from engine.clock import CLOCK
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.process.forms import load_form, schema_problems
from engine.store import audit
from engine.store.models import DESIGNER, Base, person_with_roles

if TYPE_CHECKING:
    from engine.core import Engine

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class FormVersion(Base):
    """One saved version of a task form (append-only)."""

    __tablename__ = "form_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(String(100), index=True)  # forms/KEY.json
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    saved_by: Mapped[str] = mapped_column(String(100))
    saved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text)


def check_key(key: str) -> str:
    key = (key or "").strip().removesuffix(".json")
    if not KEY_PATTERN.match(key):
        raise InvalidInput("表单名称不正确", {"key": "「表单名称」只能含字母、数字、下划线和连字符（如 immediate_fix）"})
    return key


def parse_schema(text: str) -> tuple[dict | None, list[str]]:
    """The schema in `text` and why it is not a form the engine accepts (empty when it is)."""
    if not (text or "").strip():
        return None, ["「表单内容」不能为空"]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"「表单内容」不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}"]
    problems = schema_problems(schema)
    return (schema if not problems else None), problems


def _latest(session: Session) -> dict[str, FormVersion]:
    newest = select(FormVersion.form_key, func.max(FormVersion.id).label("id")).group_by(FormVersion.form_key).subquery()
    rows = session.execute(select(FormVersion).join(newest, newest.c.id == FormVersion.id)).scalars()
    return {row.form_key: row for row in rows}


def saved_forms(engine: Engine) -> dict[str, dict]:
    """File name (KEY.json) → the latest saved schema, for every form saved in the designer."""
    with engine.db.reading() as session:
        return {f"{key}.json": json.loads(row.content) for key, row in _latest(session).items()}


def saved_forms_if_any(engine: Engine) -> dict[str, dict] | None:
    """`saved_forms` where this machine has the deployment's database (migrated to this version), else None:
    checking a BPMN file needs no database, but with one it is checked against the forms a deploy would
    use."""
    from sqlalchemy.exc import SQLAlchemyError

    from engine.store.schema import current_revision, head_revision

    try:
        return saved_forms(engine) if current_revision(engine) == head_revision() else None
    except SQLAlchemyError:  # unreachable or not this deployment's: the files alone
        return None


def form_schema(engine: Engine, key: str, saved: dict[str, dict] | None = None) -> dict:
    """The form a deploy snapshots: its latest saved version, else forms/KEY.json."""
    saved = saved_forms(engine) if saved is None else saved
    if f"{key}.json" in saved:
        return saved[f"{key}.json"]
    return load_form(engine.settings.forms_path, key)


def form_keys(engine: Engine) -> list[str]:
    """Every form: the files in forms/ and the keys saved in the designer."""
    with engine.db.reading() as session:
        saved = set(session.execute(select(FormVersion.form_key).distinct()).scalars())
    return sorted({p.stem for p in engine.settings.forms_path.glob("*.json")} | saved)


def _view(row: FormVersion) -> dict:
    return {"id": row.id, "key": row.form_key, "hash": row.content_hash, "saved_by": row.saved_by,
            "saved_at": row.saved_at.isoformat(), "comment": row.comment,
            "download_name": f"{row.form_key}-v{row.id}.json"}


def list_forms(engine: Engine) -> list[dict]:
    """Each form with its title, how many versions were saved and the latest one, if any."""
    with engine.db.reading() as session:
        latest = {key: (_view(row), json.loads(row.content)) for key, row in _latest(session).items()}
        counts = dict(session.execute(select(FormVersion.form_key, func.count()).group_by(FormVersion.form_key)).all())
    saved = {f"{key}.json": schema for key, (_, schema) in latest.items()}
    forms = []
    for key in form_keys(engine):
        try:
            title = form_schema(engine, key, saved).get("title", "")
        except (OSError, ValueError, AttributeError):
            title = ""
        forms.append({"key": key, "file_name": f"{key}.json", "title": title, "versions": counts.get(key, 0),
                      "latest": latest[key][0] if key in latest else None})
    return forms


NEW_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "", "type": "object",
            "properties": {"opinion": {"type": "string", "title": "意见", "x-widget": "textarea"}}, "required": []}


def form_detail(engine: Engine, key: str, new: bool = False) -> dict:
    """A form's current text (latest saved version, else the file) and its saved versions, newest first;
    `new`: a form not there yet starts from a blank form instead of NotFound."""
    key = check_key(key)
    with engine.db.reading() as session:
        rows = session.execute(select(FormVersion).where(FormVersion.form_key == key)
                               .order_by(FormVersion.id.desc())).scalars().all()
        versions = [_view(r) for r in rows]
        text = rows[0].content if rows else None
    path = engine.settings.forms_path / f"{key}.json"
    if text is None:
        if path.exists():
            text = path.read_text(encoding="utf-8")
        elif new:
            text = json.dumps(NEW_FORM, ensure_ascii=False, indent=2)
        else:
            raise NotFound(f"找不到表单「{key}」")
    return {"key": key, "file_name": f"{key}.json", "text": text, "versions": versions, "in_files": path.exists()}


def save_form(engine: Engine, key: str, text: str, comment: str, actor_id: int) -> dict:
    """Save a new version of a form (流程设计 only): a comment is required and the text must be a JSON
    Schema the engine accepts; saving the latest content again changes nothing ("unchanged")."""
    key = check_key(key)
    comment = (comment or "").strip()
    errors = {}
    if not comment:
        errors["comment"] = "「保存说明」不能为空：请写明改了什么、为什么"
    schema, problems = parse_schema(text)
    if problems:
        errors["text"] = "；".join(problems)
    if errors:
        raise InvalidInput("表单未保存：" + "；".join(errors.values()), errors)
    content_hash = sha256_hex(canonical_json(schema))
    with engine.db.transaction() as session:
        user = person_with_roles(session, actor_id)
        if user is None or not user.active:
            raise Forbidden("请先登录")
        if DESIGNER not in user.roles:
            raise Forbidden(f"只有{DESIGNER}可以保存表单")
        latest = _latest(session).get(key)
        if latest is not None and latest.content_hash == content_hash:
            return {"status": "unchanged", "version": _view(latest)}
        row = FormVersion(form_key=key, content=text, content_hash=content_hash, saved_by=user.name,
                          saved_by_id=user.id, saved_at=CLOCK.now(), comment=comment)
        session.add(row)
        session.flush()
        audit.append(session, "form.save", "form_version", row.id, user.name, form=key, hash=content_hash,
                     comment=comment)
        return {"status": "saved", "version": _view(row)}


def form_version_file(engine: Engine, version_id: int) -> dict:
    """A saved form version's JSON, to download."""
    with engine.db.reading() as session:
        row = session.get(FormVersion, version_id)
        if row is None:
            raise NotFound(f"找不到表单版本 {version_id}")
        return _view(row) | {"content": row.content}
