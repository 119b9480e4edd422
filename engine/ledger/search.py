"""Searching the ledger (问题, 描述, 序号, 责任单位, 责任人) by substring, in SQL.

Chinese has no spaces to split words at, so full-text search with a word tokeniser would need a
dictionary extension (zhparser, pg_jieba) that is not maintained for our PostgreSQL; substring
search is what people expect anyway (「津贴」 finds 「违规发放津贴补贴」). PostgreSQL answers
`LIKE '%…%'` from GIN trigram indexes (pg_trgm, migration 0023) once the text has three characters;
for one or two characters there is no trigram to look up and it scans, as SQLite always does — at
20,000 items both stay well inside a page's budget (the `scale` benchmark).

On PostgreSQL, for three characters or more, each field is searched by a query of its own and the ids
are united, so that each field's index can answer (one OR over five fields and two tables scans the
items); otherwise one OR, one scan: on SQLite and for shorter texts that is the faster (measured at
20,000 items: 10–40 ms either way)."""
from __future__ import annotations

from sqlalchemy import or_, select, union

from engine.store.models import Item, Unit, User

TRIGRAM = 3  # characters: shorter texts have no trigram an index could look up


def escape_like(text: str) -> str:
    """A search text matched literally by LIKE (its % and _ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_items(text: str, postgres: bool):
    """A condition on items: 问题, 描述, 责任单位 or 责任人 contains `text`, or 序号 is it."""
    pattern = f"%{escape_like(text)}%"

    def like(column):
        return column.like(pattern, escape="\\")

    arms = (like(Item.title), like(Item.description), Item.number == text,
            Item.unit_id.in_(select(Unit.id).where(like(Unit.name))),
            Item.person_id.in_(select(User.id).where(like(User.name))))
    if not postgres or len(text) < TRIGRAM:
        return or_(*arms)  # one scan of the items (measured faster where no index can answer)
    return Item.id.in_(union(*(select(Item.id).where(arm) for arm in arms)))
