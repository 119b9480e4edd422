"""outbox: domain events written with the change that raised them, handled after commit

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recorded_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("handled_at", engine.store.models.UTCDateTime(), nullable=True),
        sa.Column("available_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("claimed_until", engine.store.models.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_outbox_pending", ["handled_at", "available_at"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
