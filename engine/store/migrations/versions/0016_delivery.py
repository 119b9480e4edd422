"""users: e-mail address, channels and digest hour; deliveries: e-mails and webhook messages to send

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("notify_email", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("notify_webhook", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("digest_hour", sa.Integer(), nullable=True, server_default="8"))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("digest_key", sa.String(60), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("digest_key", name="uq_deliveries_digest_key"),
    )
    op.create_index("ix_deliveries_user_id", "deliveries", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_user_id", table_name="deliveries")
    op.drop_table("deliveries")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("digest_hour", "notify_webhook", "notify_email", "email"):
            batch_op.drop_column(column)
