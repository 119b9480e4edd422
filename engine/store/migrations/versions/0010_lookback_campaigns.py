"""lookback_campaigns: 回头看 that 整改办 starts on closed problems of any category

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookback_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("instances", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(100), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lookback_campaigns_round_id", "lookback_campaigns", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_lookback_campaigns_round_id", table_name="lookback_campaigns")
    op.drop_table("lookback_campaigns")
