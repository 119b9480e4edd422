"""Benchmark (not a test): import a 2,000-row ledger, time and peak memory, on SQLite and PostgreSQL.

    .venv/bin/python tests/benchmarks/ledger_import.py [ROWS] [--postgres]

Time is measured without tracemalloc (which slows Python down), then the import is repeated into a
fresh database under tracemalloc for the peak of Python allocations."""
from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from sqlalchemy import create_engine, text  # noqa: E402

from conftest import PG_URL, settings_for  # noqa: E402
from engine import Engine  # noqa: E402
from engine.deploy import deploy_defaults  # noqa: E402
from engine.ledger import add_round  # noqa: E402
from engine.ledger_import import apply_import, preview_import  # noqa: E402
from engine.models import CATEGORIES  # noqa: E402
from engine.schema import upgrade  # noqa: E402
from ledger_fixture import HEADER, PROBLEMS, ASPECTS, workbook_bytes  # noqa: E402


def big_ledger(rows: int) -> bytes:
    today = date.today()
    out = []
    for n in range(1, rows + 1):
        aspect, title, _, unit, person, leader, days, _ = PROBLEMS[n % len(PROBLEMS)]
        deadline = today + timedelta(days=days + n % 90)
        out.append({"序号": n, "方面": ASPECTS[aspect], "问题": f"{title}（{n}）", "问题描述": f"巡察发现{title}。",
                    "整改类别": CATEGORIES[n % 3], "责任单位": f"{unit}{n % 40}", "责任人": f"{person}{n % 150}",
                    "分管领导": leader, "完成标准": "整改到位",
                    "整改时限": datetime(deadline.year, deadline.month, deadline.day) if n % 2 else deadline.isoformat()})
    return workbook_bytes(out, HEADER)


# A schema of its own, so that a benchmark never collides with a test run on the same server.
BENCH_SCHEMA = "rectify_bench"
BENCH_PG_URL = PG_URL.split("?")[0] + f"?options=-csearch_path%3D{BENCH_SCHEMA}"


def fresh_engine(kind: str, folder: Path) -> Engine:
    if kind == "postgres":
        admin = create_engine(PG_URL.split("?")[0])
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
        admin.dispose()
        engine = Engine(settings_for(BENCH_PG_URL, folder / "instance"))
    else:
        engine = Engine(settings_for(f"sqlite:///{folder / 'bench.db'}", folder / "instance"))
    upgrade(engine)
    deploy_defaults(engine)
    add_round(engine, "基准轮次", "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=20))
    return engine


def run(kind: str, data: bytes, rows: int, traced: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = fresh_engine(kind, Path(tmp))
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        plan = preview_import(engine, "基准轮次", data)
        previewed = time.perf_counter()
        result = apply_import(engine, "基准轮次", data, actor="bench")
        done = time.perf_counter()
        assert plan.ok and len(result["created"]) == rows
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{kind:8}  peak Python memory during preview + import: {peak / 2**20:.1f} MiB")
        else:
            print(f"{kind:8}  preview {previewed - started:6.2f} s   import {done - previewed:6.2f} s   "
                  f"({(done - previewed) / rows * 1000:.1f} ms per row; {len(plan.new_units)} new units, "
                  f"{len(plan.new_people)} new people)")
        engine.close()


def main() -> None:
    rows = int(next((a for a in sys.argv[1:] if a.isdigit()), 2000))
    kinds = ["sqlite"] + (["postgres"] if "--postgres" in sys.argv else [])
    data = big_ledger(rows)
    print(f"{rows} rows, {len(data) / 1024:.0f} KiB .xlsx")
    for kind in kinds:
        run(kind, data, rows, traced=False)
        run(kind, data, rows, traced=True)


if __name__ == "__main__":
    main()
