"""security: the kind of a password failure (an anonymous login, or a signed-in person's
confirmation) with an index by source; web sessions kept on the server so that they can end

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("ended_at", engine.store.models.UTCDateTime(), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_web_sessions_user", ["user_id", "ended_at"], unique=False)
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="login"))
        batch_op.create_index("ix_login_failures_source_at", ["remote_addr", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("web_sessions")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_source_at")
        batch_op.drop_column("kind")
