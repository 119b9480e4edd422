"""process_versions.comment; deploy_requests (a deploy that adds or changes a script, awaiting a
second approval); instance_migrations (an instance moved to another version, and back);
superseded_signatures (signatures set aside when an item is sent back to an earlier step — append-only)

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # process_versions has no triggers: adding a column needs no table rebuild on SQLite.
    op.add_column("process_versions", sa.Column("comment", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "deploy_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scripts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("process_versions.id"), nullable=True),
    )
    op.create_index("ix_deploy_requests_process_id", "deploy_requests", ["process_id"])
    op.create_table(
        "instance_migrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("from_version_id", sa.Integer(), sa.ForeignKey("process_versions.id"), nullable=False),
        sa.Column("to_version_id", sa.Integer(), sa.ForeignKey("process_versions.id"), nullable=False),
        sa.Column("state_before", sa.Text(), nullable=False),
        sa.Column("revision_after", sa.Integer(), nullable=False),
        sa.Column("migrated_by", sa.String(100), nullable=False),
        sa.Column("migrated_at", UTCDateTime(), nullable=False),
        sa.Column("reverted_at", UTCDateTime(), nullable=True),
        sa.Column("reverted_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_instance_migrations_instance_id", "instance_migrations", ["instance_id"])
    op.create_index("ix_instance_migrations_item_id", "instance_migrations", ["item_id"])
    op.create_table(
        "superseded_signatures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signature_id", sa.Integer(), sa.ForeignKey("signatures.id"), nullable=False, unique=True),
        sa.Column("change_id", sa.Integer(), sa.ForeignKey("change_requests.id"), nullable=False),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_superseded_signatures_change_id", "superseded_signatures", ["change_id"])
    _append_only("superseded_signatures")


def downgrade() -> None:
    _append_only("superseded_signatures", drop=True)
    op.drop_index("ix_superseded_signatures_change_id", table_name="superseded_signatures")
    op.drop_table("superseded_signatures")
    op.drop_index("ix_instance_migrations_item_id", table_name="instance_migrations")
    op.drop_index("ix_instance_migrations_instance_id", table_name="instance_migrations")
    op.drop_table("instance_migrations")
    op.drop_index("ix_deploy_requests_process_id", table_name="deploy_requests")
    op.drop_table("deploy_requests")
    with op.batch_alter_table("process_versions", schema=None) as batch_op:
        batch_op.drop_column("comment")


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
