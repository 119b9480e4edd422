"""search and scale: trigram indexes for the ledger's substring search on PostgreSQL, items by
person, open steps by item and due date (the dashboard's lights from the index alone), and on
PostgreSQL the few task records that carry a rule's 文号 or a 回头看's result (the dashboard's counts)

PostgreSQL: pg_trgm (created in schema public, so a database whose tests or tenants live in schemas
of their own shares one copy; the operator class is named with its schema, so the index works
whatever the search_path) and GIN trigram indexes on 问题, 描述, unit and person names, which
`LIKE '%…%'` uses for three characters or more (engine/ledger/search.py). SQLite has no trigram
index and none of these (the model declares them for PostgreSQL only).

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Records carrying a key (a rule's 文号, a 回头看's result), which engine/reports/round_work.py looks for
# among every task record: `CAST((data ->> 'doc_number') AS VARCHAR) IS NOT NULL` in rule_rows. A partial
# index of those few rows, and statistics on the same expression so that the planner knows how few, turn
# a read of all history (200,000 records: 140 ms) into an index lookup (under 1 ms). The text cast never
# fails, whatever a form stored. lookback_results tests `rebound` only cast to boolean, which an index
# predicate must not do (a stored non-boolean would then fail the insert): it uses its index once it
# tests the text first, as rule_rows does.
KEYED = (("ix_task_records_doc_number", "st_task_records_doc_number", "doc_number"),
         ("ix_task_records_rebound", "st_task_records_rebound", "rebound"))
TRIGRAM = (("ix_items_title_trgm", "items", "title"), ("ix_items_description_trgm", "items", "description"),
           ("ix_units_name_trgm", "units", "name"), ("ix_users_name_trgm", "users", "name"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Several schemas migrating at once (parallel test workers) would race on the extension's row.
        op.execute("SELECT pg_advisory_xact_lock(hashtext('rectify: create pg_trgm'))")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        # Where it is (public, unless the server had it elsewhere already), to name its operator class.
        schema = op.get_bind().exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").scalar_one()
        for name, table, column in TRIGRAM:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} {schema}.gin_trgm_ops)")
        for name, statistics, key in KEYED:
            expression = f"CAST((data ->> '{key}') AS VARCHAR)"
            op.execute(f"CREATE INDEX {name} ON task_records (item_id) WHERE {expression} IS NOT NULL")
            op.execute(f"CREATE STATISTICS {statistics} ON ({expression}) FROM task_records")
    op.create_index("ix_items_person_id", "items", ["person_id"])
    op.create_index("ix_inbox_item_due", "inbox_tasks", ["item_id", "due_date"])


def downgrade() -> None:
    # pg_trgm stays: other schemas of the database may use it.
    op.drop_index("ix_inbox_item_due", table_name="inbox_tasks")
    op.drop_index("ix_items_person_id", table_name="items")
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column in (*TRIGRAM, *((name, "task_records", "item_id") for name, _, _ in KEYED)):
            op.drop_index(name, table_name=table)
        for _name, statistics, _key in KEYED:
            op.execute(f"DROP STATISTICS IF EXISTS {statistics}")
