"""talks and talk_items: 约谈记录 (reminder talks and 约谈 about items; internal)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "talks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("people", sa.String(500), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "talk_items",
        sa.Column("talk_id", sa.Integer(), sa.ForeignKey("talks.id"), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), primary_key=True),
    )
    op.create_index("ix_talk_items_item_id", "talk_items", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_talk_items_item_id", table_name="talk_items")
    op.drop_table("talk_items")
    op.drop_table("talks")
