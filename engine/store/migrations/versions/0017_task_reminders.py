"""inbox_tasks.reminded: the worst light a task's holder was told of (即将到期, 已超期)

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_tasks", schema=None) as batch_op:
        batch_op.drop_column("reminded")
