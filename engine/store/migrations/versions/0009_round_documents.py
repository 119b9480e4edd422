"""rounds: deploying authority, Party organisation fed back to, 销号率 target, the upward report's due date,
recipient and plan; round_activities (整改工作记录)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deploying_authority", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("feedback_recipient", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("close_target", sa.Integer(), nullable=False, server_default="95"))
        batch_op.add_column(sa.Column("upward_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("upward_sent_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("upward_recipient", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("upward_plan", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "round_activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(500), nullable=False),
        sa.Column("doc_number", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_round_activities_round_id", "round_activities", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_round_activities_round_id", table_name="round_activities")
    op.drop_table("round_activities")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        for column in ("upward_plan", "upward_recipient", "upward_sent_on", "upward_due", "close_target",
                       "feedback_recipient", "deploying_authority"):
            batch_op.drop_column(column)
