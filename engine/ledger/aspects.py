"""方面: the aspect headings of a round — listed, added, renamed, reordered, and removed while empty.

Imports create aspects from the ledger's 方面 column; 整改办 tidies them here. The order is the order in
which the progress report (整改进展情况公布) lists them; the ledger export keeps the ledger's row order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.ledger.rounds import find_round
from engine.store import audit
from engine.store.models import Aspect, Item

if TYPE_CHECKING:
    from engine.core import Engine

MAX_TITLE = 500


@dataclass(frozen=True)
class AspectEdit:
    """One row of the edit: an existing aspect (`id`) or a new one (`id` None). `position` is the place
    wanted (1 = first; None keeps an existing aspect's place and puts a new one last)."""

    id: int | None
    title: str
    position: int | None = None
    delete: bool = False

    @property
    def key(self) -> str:
        return f"aspect-{self.id}" if self.id is not None else "new"


def _rows(session: Session, round_id: int) -> list[tuple[Aspect, int]]:
    counts = dict(session.execute(select(Item.aspect_id, func.count(Item.id))
                                  .where(Item.round_id == round_id).group_by(Item.aspect_id)).all())
    aspects = session.execute(select(Aspect).where(Aspect.round_id == round_id)
                              .order_by(Aspect.position, Aspect.id)).scalars().all()
    return [(aspect, counts.get(aspect.id, 0)) for aspect in aspects]


def _view(aspect: Aspect, items: int) -> dict:
    return {"id": aspect.id, "position": aspect.position, "title": aspect.title, "item_count": items}


def list_aspects(engine: Engine, round_ref: str | int) -> list[dict]:
    with engine.db.reading() as session:
        return [_view(a, n) for a, n in _rows(session, find_round(session, round_ref).id)]


def _check(edits: list[AspectEdit], existing: dict[int, tuple[Aspect, int]]) -> dict[str, str]:
    """Every wrong row at once: unknown, empty, too long, duplicate, or a removal of a non-empty aspect."""
    errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for edit in edits:
        title = edit.title.strip()
        if edit.id is not None and edit.id not in existing:
            raise NotFound(f"本轮次没有编号为 {edit.id} 的方面")
        if edit.delete:
            items = existing[edit.id][1]
            if items:
                errors[edit.key] = f"「{existing[edit.id][0].title}」下还有 {items} 个问题，不能删除"
            continue
        if not title:
            errors[edit.key] = "方面名称不能为空"
        elif len(title) > MAX_TITLE:
            errors[edit.key] = f"方面名称不能超过 {MAX_TITLE} 字"
        elif title in seen:
            errors[edit.key] = f"与另一个方面重名：「{title}」"
        else:
            seen[title] = edit.key
        if edit.position is not None and edit.position < 1:
            errors.setdefault(edit.key, "顺序须为正整数")
    return errors


def edit_aspects(engine: Engine, round_ref: str | int, edits: list[AspectEdit], actor: str | None = None) -> list[dict]:
    """Apply the edits in one transaction (all or nothing) and number the aspects 1..n in the order
    asked for. Aspects not named in `edits` keep their title and place; a new row with an empty
    title is ignored (the blank line of a form)."""
    edits = [e for e in edits if e.id is not None or e.title.strip()]
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        rows = _rows(session, round_.id)
        existing = {aspect.id: (aspect, items) for aspect, items in rows}
        by_id = {e.id: e for e in edits if e.id is not None}
        # The untouched keep their title; the check then sees the round's whole set of titles.
        edits += [AspectEdit(a.id, a.title) for a, _ in rows if a.id not in by_id]
        errors = _check(edits, existing)
        if errors:
            raise InvalidInput("方面未保存，请按提示修改", errors)

        removed = [existing[e.id][0] for e in edits if e.delete]
        kept = [e for e in edits if not e.delete]
        current = {a.id: i for i, (a, _) in enumerate(rows, start=1)}

        def place(e: AspectEdit) -> int:  # where the row stands now; a new one goes last
            return current.get(e.id, len(rows) + 1)

        wanted = sorted(kept, key=lambda e: (e.position if e.position is not None else place(e), place(e)))
        renamed = [(existing[e.id][0].title, e.title.strip()) for e in kept
                   if e.id is not None and existing[e.id][0].title != e.title.strip()]
        for aspect in removed:
            session.delete(aspect)
        # Titles are unique per round, so a swap of two titles goes through placeholders first.
        for e in kept:
            if e.id is not None and existing[e.id][0].title != e.title.strip():
                existing[e.id][0].title = f"renaming-{uuid4().hex}"
        session.flush()
        added = []
        for position, e in enumerate(wanted, start=1):
            if e.id is None:
                aspect = Aspect(round_id=round_.id, position=position, title=e.title.strip())
                session.add(aspect)
                added.append(aspect.title)
            else:
                aspect = existing[e.id][0]
                aspect.title, aspect.position = e.title.strip(), position
        session.flush()
        if added or renamed or removed or [e.id for e in wanted] != [a.id for a, _ in rows]:
            audit.append(session, "round.aspects", "round", round_.id, actor, added=added,
                         renamed=[list(pair) for pair in renamed], removed=[a.title for a in removed],
                         order=[e.title.strip() for e in wanted])
        return [_view(a, n) for a, n in _rows(session, round_.id)]
