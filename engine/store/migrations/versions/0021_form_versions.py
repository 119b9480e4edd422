"""form_versions: task forms (JSON Schema) saved in the browser designer, one row per saved version —
append-only

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form_key", sa.String(100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("saved_by", sa.String(100), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
    )
    op.create_index("ix_form_versions_form_key", "form_versions", ["form_key"])
    _append_only("form_versions")


def downgrade() -> None:
    _append_only("form_versions", drop=True)
    op.drop_index("ix_form_versions_form_key", table_name="form_versions")
    op.drop_table("form_versions")


def _append_only(table: str, drop: bool = False) -> None:
    """As 0001's: the database itself refuses UPDATE and DELETE on the table."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
            if not drop:
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        if not drop:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION rectify_append_only()")
