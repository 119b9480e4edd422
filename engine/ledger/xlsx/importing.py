"""Importing a ledger .xlsx into a round (docs/domain.md, ledger import): all or nothing.

`preview_import` reads the file and plans the import — items, new units, new people, new aspects, and
every problem — without writing. `apply_import` plans again inside the writing transaction (the
database may have changed since the preview), refuses the whole file if anything is wrong, and
otherwise creates everything and starts every item's path in that one transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.ledger.items import insert_items
from engine.ledger.refs import LedgerRefs, Resolved
from engine.ledger.rounds import find_round
from engine.ledger.xlsx.sheet import LedgerRow, LedgerSheet, Problem, read_ledger
from engine.process.instances import honours_third_party
from engine.store import audit
from engine.store.models import Item, Round

if TYPE_CHECKING:
    from engine.core import Engine

Progress = Callable[[int, int], None]


class LedgerRefused(InvalidInput):
    """The file was refused whole; `problems` lists every reason, row and column named."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"台账未导入：发现 {len(problems)} 处问题，未写入任何数据",
                         {str(i + 1): str(p) for i, p in enumerate(problems)})
        self.problems = problems

    def __str__(self) -> str:
        return f"{self.message}：" + "；".join(str(p) for p in self.problems)


class RoleChangesUnconfirmed(InvalidInput):
    """The file would give existing people roles, and that was not confirmed separately."""

    def __init__(self, grants: list[dict]):
        super().__init__(
            f"台账会为 {len(grants)} 名已有人员增加角色，须另行确认后才能导入（未写入任何数据）",
            {f"{g['name']}（{g['unit']}）": f"将获得「{g['role']}」：{g['effect']}" for g in grants})
        self.grants = grants


@dataclass
class ImportPlan:
    """What an import of the file into the round would do, as plain values."""

    round: dict
    items: list[dict] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    new_people: list[dict] = field(default_factory=list)
    new_aspects: list[str] = field(default_factory=list)
    role_grants: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"round": self.round, "ok": self.ok, "items": self.items, "new_units": self.new_units,
                "new_people": self.new_people, "new_aspects": self.new_aspects, "role_grants": self.role_grants,
                "problems": [p.as_dict() for p in self.problems]}


def _item_view(row: LedgerRow) -> dict:
    new = row.item
    return {"row": row.row, "number": new.number, "title": new.title, "aspect": new.aspect, "category": new.category,
            "unit": new.unit, "person": new.person, "leader": new.leader, "deadline": new.deadline.isoformat(),
            "third_party": new.third_party, "publish": new.publish}


def _plan(session: Session, round_: Round, sheet: LedgerSheet) -> tuple[ImportPlan, LedgerRefs,
                                                                         list[tuple[LedgerRow, Resolved]]]:
    plan = ImportPlan(round={"id": round_.id, "name": round_.name}, problems=list(sheet.problems))
    numbers = [number for _, number in sheet.numbers]
    taken = set(session.execute(
        select(Item.number).where(Item.round_id == round_.id, Item.number.in_(numbers))).scalars()) if numbers else set()
    plan.problems += [Problem(f"序号「{number}」在轮次「{round_.name}」中已存在", row, "序号")
                      for row, number in sheet.numbers if number in taken]
    wanted = {r.item.category for r in sheet.rows if r.item.third_party}
    ignored = {c for c in wanted if not honours_third_party(session, c)}
    plan.problems += [Problem(f"「{r.item.category}」的流程不含第三方评估，不能要求第三方评估", r.row, "需第三方评估")
                      for r in sheet.rows if r.item.third_party and r.item.category in ignored]
    plan.problems.sort(key=lambda p: (p.row or 0))
    refs = LedgerRefs(session, round_)
    refs.load({r.item.unit for r in sheet.rows}, {n for r in sheet.rows for n in (r.item.person, r.item.leader)})
    resolved = [(r, refs.resolve(r.item.unit, r.item.person, r.item.leader, r.item.aspect)) for r in sheet.rows]
    plan.problems += [Problem(f"分管领导「{r.item.leader}」有 {len(refs.ambiguous_leaders[r.item.leader])} 名同名人员"
                              f"（{'、'.join(refs.ambiguous_leaders[r.item.leader])}），均未担任分管领导，无法确定是谁；"
                              "请先为其中一人授予分管领导角色", r.row, "分管领导")
                      for r in sheet.rows if r.item.leader in refs.ambiguous_leaders]
    plan.problems.sort(key=lambda p: (p.row or 0))
    plan.items = [_item_view(r) for r in sheet.rows]
    plan.new_units, plan.new_people = refs.new_units(), refs.new_people()
    plan.new_aspects, plan.role_grants = refs.new_aspects(), refs.role_grants()
    return plan, refs, resolved


def preview_import(engine: Engine, round_ref: str | int, data: bytes) -> ImportPlan:
    """What importing `data` would create, and every problem that would refuse it. Writes nothing."""
    sheet = read_ledger(data)
    with engine.db.reading() as session:
        return _plan(session, find_round(session, round_ref), sheet)[0]


def apply_import(engine: Engine, round_ref: str | int, data: bytes, actor: str | None = None,
                 progress: Progress | None = None, allow_role_changes: bool = False,
                 on_success: Callable[[Session, dict], None] | None = None) -> dict:
    """Import the whole file or nothing: LedgerRefused (with every problem) if anything is wrong,
    RoleChangesUnconfirmed if it would give existing people roles and `allow_role_changes` is not
    set. `progress(done, total)` is called as items are created."""
    sheet = read_ledger(data)  # before the transaction: no lock is held while the file is parsed
    with engine.db.transaction() as session:
        round_ = find_round(session, round_ref)
        plan, refs, resolved = _plan(session, round_, sheet)
        if plan.problems:
            raise LedgerRefused(plan.problems)
        if plan.role_grants and not allow_role_changes:
            raise RoleChangesUnconfirmed(plan.role_grants)
        refs.materialize()
        items = insert_items(engine, session, round_, [(row.item, refs_of_row) for row, refs_of_row in resolved],
                             (lambda done: progress(done, len(resolved))) if progress else None)
        created = [{"id": item.id, "number": item.number, "title": item.title} for item in items]
        audit.append(session, "ledger.import", "round", round_.id, actor, file_sha256=hashlib.sha256(data).hexdigest(),
                     items=len(created), new_units=plan.new_units, new_people=[p["name"] for p in plan.new_people],
                     role_grants=[{k: g[k] for k in ("name", "unit", "role")} for g in plan.role_grants])
        result = plan.as_dict() | {"created": created}
        if on_success:  # in the same transaction (a background job marks itself done with it)
            on_success(session, result)
        return result
