"""`rectify`: the command line of the engine. The group and its helpers live in `base`; each module
registers one area's commands on it."""
from engine.cli import (  # noqa: F401  (registers the commands)
    activities,
    admin,
    changes,
    closure,
    designer,
    ledger,
    lookbacks,
    notify,
    outbox,
    people,
    reports,
    setup,
    spreadsheets,
    talks,
    work,
)
from engine.cli.base import main

__all__ = ["main"]
