"""supervision_notices: 督办单 on open items, replied to as tasks

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("demand", sa.Text(), nullable=False),
        sa.Column("reply_due", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("instances", sa.JSON(), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=True),
    )
    op.create_index("ix_supervision_notices_round_id", "supervision_notices", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_supervision_notices_round_id", table_name="supervision_notices")
    op.drop_table("supervision_notices")
