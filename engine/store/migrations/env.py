"""Alembic environment: runs on the connection `engine.schema.upgrade` hands it, or on
RECTIFY_DATABASE_URL when called from the alembic command line."""
from alembic import context
from sqlalchemy import create_engine

import engine.core  # noqa: F401  (importing the Engine registers every table, wherever it is defined)
from engine.config import Settings
from engine.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(Settings.from_env().database_url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
