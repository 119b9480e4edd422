"""users.login (登录名, an account of its own) and users.must_change_password (after an admin's reset)

Existing people get their name as their account where no one else has the same name; namesakes keep
logging in by name and unit until an administrator gives them accounts.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("login", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint("uq_users_login", ["login"])
    op.execute("UPDATE users SET login = name WHERE name IN (SELECT name FROM users GROUP BY name HAVING COUNT(*) = 1)")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_login", type_="unique")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("login")
