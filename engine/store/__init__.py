"""Persistence: the database and its transactions, the data model and Alembic migrations,
the hash-chained audit log, content-addressed file stores and their pruning, and the outbox table
of domain events waiting for their after-commit handlers."""
