"""SQLite: the few task records that carry a rule's 文号 or a 回头看's result, by partial indexes

The dashboard counts them among all history (engine/reports/round_work.py rule_rows and
lookback_results); at 200,000 records SQLite read every record's JSON for each count (~50 ms apiece).
SQLite matches a partial index only to a query term of the same text, literal JSON path included, so
those queries add `json_extract(task_records.data, '$.<key>') IS NOT NULL` on SQLite. On `id`, as
rule_rows reads in record order. PostgreSQL has its own since 0023.

Revision ID: 0025
Revises: 0024
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

KEYS = ("doc_number", "rebound")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for key in KEYS:
            op.execute(f"CREATE INDEX ix_task_records_{key}_sqlite ON task_records (id) "
                       f"WHERE json_extract(data, '$.{key}') IS NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for key in KEYS:
            op.execute(f"DROP INDEX IF EXISTS ix_task_records_{key}_sqlite")
