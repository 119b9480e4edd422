"""audit_head: the keyed chain (keyed_from, head_mac)

Rows from `keyed_from` on are chained with an HMAC under a key kept outside the database, and the
head carries the key's MAC over its count and last hash. A new, empty database is keyed from its
first row; an existing one from the next row appended (`rectify init-db` appends it at once).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keyed_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("head_mac", sa.String(length=64), nullable=True))
    op.execute(sa.text("UPDATE audit_head SET keyed_from = 1 WHERE count = 0"))


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("head_mac")
        batch_op.drop_column("keyed_from")
