"""stored_files: evidence, closure records and uploaded ledgers in the database (RECTIFY_FILE_STORE=database,
the default on PostgreSQL), one row per namespace and SHA-256

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("namespace", sa.String(20), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # PDFs, photos and Office files are compressed already: storing them out of line uncompressed
        # saves PostgreSQL a futile compression attempt on every write.
        op.execute("ALTER TABLE stored_files ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("stored_files")
