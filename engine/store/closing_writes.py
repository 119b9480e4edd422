"""Inserts that nothing later in the unit of work reads back, held until just before its commit, so that
on PostgreSQL they reach the server in one statement with the unit's last insert (data-modifying CTEs):
a completion's evidence rows, their bytes, its notifications and its outbox rows are one statement and one
round trip there instead of four. On SQLite, in process, a statement costs little: each runs at once.

`hold` rows for an insert; the outbox's insert, the last one a unit makes, goes with them
(`execute_last`); the Database sends what is left after its before-commit hooks (`flush`). A large batch
(an import's thousands of rows, or several files' contents) runs at once: merging gains nothing there,
and would pass PostgreSQL's limit of parameters a statement or make one statement of many MB.

The inserts given are built once (module constants, without values): the combined statement is then
built once per shape (which inserts, how many rows, which columns) and SQLAlchemy's compiled form of it
is reused. Built afresh each time, it cost more Python time than the round trips it saves."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Result, bindparam, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

HELD = "rectify.closing_writes"
MAX_HELD_VALUES = 2_000  # bound values a unit may hold (PostgreSQL allows 65,535 a statement)
MAX_HELD_BYTES = 8 * 2**20  # and file contents: a unit storing many files sends them as it goes


def _merging(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _fits(session: Session, rows: list[dict]) -> bool:
    """Whether `rows` may join what the unit holds already."""
    rows = [row for _, row in session.info.get(HELD, [])] + rows
    return (sum(len(row) for row in rows) <= MAX_HELD_VALUES
            and sum(len(v) for row in rows for v in row.values() if isinstance(v, bytes)) <= MAX_HELD_BYTES)


def hold(session: Session, statement: Insert, rows: list[dict]) -> None:
    """Insert `rows` with `statement` (an insert without values, built once) before this unit commits."""
    if not rows:
        return
    if not (_merging(session) and _fits(session, rows)):
        flush(session)  # what was held first is written first
        session.execute(statement, rows)
        return
    session.info[HELD] = session.info.get(HELD, []) + [(statement, row) for row in rows]


def execute_last(session: Session, statement: Insert, rows: list[dict]) -> Result:
    """Run `statement` (an insert … RETURNING, built once) for `rows`, together with the held inserts."""
    if not (_merging(session) and session.info.get(HELD) and _fits(session, rows)):
        flush(session)
        return session.execute(statement, rows)
    held = session.info.pop(HELD)
    combined = _combined(tuple((s, tuple(row)) for s, row in held), statement, tuple(tuple(row) for row in rows))
    return session.execute(combined, _params(held, rows))


def flush(session: Session) -> None:
    """Send the held inserts (one statement); the Database calls it after its before-commit hooks."""
    held = session.info.pop(HELD, None)
    if held:
        session.execute(_combined(tuple((s, tuple(row)) for s, row in held), None, ()), _params(held, []))


def _params(held: list, rows: list[dict]) -> dict:
    params = {f"h{k}_{column}": value for k, (_, row) in enumerate(held) for column, value in row.items()}
    params.update((f"l{k}_{column}", value) for k, row in enumerate(rows) for column, value in row.items())
    return params


@lru_cache(maxsize=64)
def _combined(held: tuple, last: Insert | None, last_rows: tuple):
    """The one statement for a shape: each held row an insert CTE (SQLAlchemy caches the compiled form of
    single-row inserts, not of multi-row VALUES), then the last insert's rows, whose RETURNING is the result."""
    ctes = [statement.values({c: bindparam(f"h{k}_{c}") for c in columns}).cte(f"held_{k}")
            for k, (statement, columns) in enumerate(held)]
    if last is None:
        return select(literal(1)).add_cte(*ctes)
    outs = [last.values({c: bindparam(f"l{k}_{c}") for c in columns}).cte(f"last_{k}")
            for k, columns in enumerate(last_rows)]
    if len(outs) == 1:
        return select(outs[0]).add_cte(*ctes)
    return union_all(*[select(out) for out in outs]).add_cte(*ctes, *outs)
