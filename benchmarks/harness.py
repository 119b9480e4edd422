"""Timing helpers and the databases the benchmarks run on."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine, text

from engine import Engine, Settings
from engine.process.deploy import deploy_defaults
from engine.store.schema import upgrade

PG_BASE = os.environ.get("RECTIFY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "rectify_bench"


def summary(samples: list[float]) -> dict:
    """Median and spread of a list of seconds, in milliseconds."""
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(samples), "median_ms": statistics.median(samples) * 1000, "p05_ms": pick(0.05) * 1000,
            "p95_ms": pick(0.95) * 1000, "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000}


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def postgres_available() -> bool:
    try:
        eng = create_engine(PG_BASE)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def fresh_engine(kind: str, folder: Path | None = None) -> Engine:
    """A migrated, empty database with the default workflows deployed."""
    folder = folder or Path(tempfile.mkdtemp(prefix=f"rectify-bench-{kind}-"))
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        admin = create_engine(PG_BASE)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        admin.dispose()
        url = f"{PG_BASE}?options=-csearch_path%3D{PG_SCHEMA}"
    engine = Engine(replace(Settings.from_env(), database_url=url, instance_path=folder / "instance"))
    upgrade(engine)
    deploy_defaults(engine, actor="bench")
    return engine


def databases() -> list[str]:
    return ["sqlite", "postgres"] if postgres_available() else ["sqlite"]
