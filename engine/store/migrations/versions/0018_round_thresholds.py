"""rounds.blue_days, yellow_days, red_days: each round's 红黄绿灯 thresholds (published defaults 7, 0, 30)

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blue_days", sa.Integer(), nullable=False, server_default="7"))
        batch_op.add_column(sa.Column("yellow_days", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("red_days", sa.Integer(), nullable=False, server_default="30"))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("red_days")
        batch_op.drop_column("yellow_days")
        batch_op.drop_column("blue_days")
