"""The indexes migration 0023 adds for lists, search and the dashboard at province scale, declared
here so that the model matches the migrated schema (models.py holds the tables; this module is
imported with the ledger, so they are declared wherever the model is)."""
from __future__ import annotations

from sqlalchemy import Index, text

from engine.store.models import InboxTask, Item, TaskRecord, Unit, User

# GIN trigram indexes for `LIKE '%…%'` (engine/ledger/search.py), on PostgreSQL only: SQLite has no
# trigram index.
TRIGRAM_INDEXES = (("ix_items_title_trgm", Item.title), ("ix_items_description_trgm", Item.description),
                   ("ix_units_name_trgm", Unit.name), ("ix_users_name_trgm", User.name))
for _name, _column in TRIGRAM_INDEXES:
    Index(_name, _column, postgresql_using="gin",
          postgresql_ops={_column.key: "public.gin_trgm_ops"}).ddl_if(dialect="postgresql")
# Items by 责任人: the search's person arm, and a person's items.
Index("ix_items_person_id", Item.person_id)
# Each item's most pressing open step (its light) from the index alone, for every item at once.
Index("ix_inbox_item_due", InboxTask.item_id, InboxTask.due_date)
# PostgreSQL: the few task records carrying a rule's 文号 or a 回头看's result (rule_rows and
# lookback_results in engine/reports/round_work.py), with statistics on the same expressions.
for _key in ("doc_number", "rebound"):
    Index(f"ix_task_records_{_key}", TaskRecord.item_id,
          postgresql_where=text(f"CAST((data ->> '{_key}') AS VARCHAR) IS NOT NULL")).ddl_if(dialect="postgresql")
# SQLite (migration 0025): the same records by partial indexes on the literal JSON path, on id (rule_rows
# reads in record order); the queries add the same term (round_work.recorded), which SQLite needs to match.
for _key in ("doc_number", "rebound"):
    Index(f"ix_task_records_{_key}_sqlite", TaskRecord.id,
          sqlite_where=text(f"json_extract(data, '$.{_key}') IS NOT NULL")).ddl_if(dialect="sqlite")
