"""inbox: index role pools by (lane_role, assignee_id, scope_unit_id)

The old (lane_role, scope_unit_id) index made a user's role tasks a scan over every task of that
role, assigned or not; with assignee_id in the key, `assignee_id IS NULL` is an index prefix.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_role")
        batch_op.create_index("ix_inbox_pool", ["lane_role", "assignee_id", "scope_unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_pool")
        batch_op.create_index("ix_inbox_role", ["lane_role", "scope_unit_id"], unique=False)
