"""personal_certificates (each signer's certificate and password-wrapped key); signatures.signature,
signature_algorithm, certificate_id (the signer's own signature over the digest)

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.String(30), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(200), nullable=False),
    )
    op.create_index("ix_personal_certificates_user_id", "personal_certificates", ["user_id"])
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("signature_algorithm", sa.String(30), nullable=True))
        batch_op.add_column(sa.Column("certificate_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_signatures_certificate_id", "personal_certificates", ["certificate_id"], ["id"])
    _keep_append_only("signatures")


def downgrade() -> None:
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_constraint("fk_signatures_certificate_id", type_="foreignkey")
        batch_op.drop_column("certificate_id")
        batch_op.drop_column("signature_algorithm")
        batch_op.drop_column("signature")
    _keep_append_only("signatures")
    op.drop_index("ix_personal_certificates_user_id", "personal_certificates")
    op.drop_table("personal_certificates")


def _keep_append_only(table: str) -> None:
    """SQLite rebuilds a table to add a foreign key, dropping its triggers: signatures stay append-only."""
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL altered the table in place; its trigger stands
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
        op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
