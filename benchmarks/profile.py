"""What dominates the costs `make bench` measures: cProfile of task completion, of starting items
(the import path) and of a closure record, grouped by where the time goes, an in-process HTTP cycle, plus the
SQL statements each issues. `make profile` (or `python -m benchmarks.profile [--db sqlite|postgres]`)."""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from engine.closure.pdf import render_and_sign, sample_record  # noqa: E402
from engine.closure.signing import credentials, init_dev_certificate  # noqa: E402
from engine.people.directory import user_id_of  # noqa: E402
from engine.work.completion import complete_task  # noqa: E402

from .bench_engine import EVIDENCE, FIX, _cast, _item, _open_task, engine_has_cast  # noqa: E402
from .harness import fresh_engine  # noqa: E402

# Where a function lives → the cost it stands for. First match wins; order from specific to general.
AREAS = (
    ("SpiffWorkflow", "SpiffWorkflow"),
    ("sqlalchemy/orm", "SQLAlchemy ORM (unit of work, loading)"),
    ("sqlalchemy", "SQLAlchemy Core (compile, execute)"),
    ("sqlite3", "SQLite (driver and database, in process)"),
    ("psycopg", "PostgreSQL driver"),
    ("jsonschema", "jsonschema (form validation)"),
    ("weasyprint", "WeasyPrint (layout)"),
    ("fontTools", "fontTools (CJK font subsetting)"),
    ("harfbuzz", "HarfBuzz (shaping, font subsetting)"),
    ("pyhanko", "pyHanko (signature)"),
    ("pydyf", "pydyf (PDF writing)"),
    ("json", "json (state (de)serialization)"),
    ("jinja2", "Jinja (templates)"),
    ("werkzeug", "Werkzeug, Flask and extensions (request, forms, sessions)"),
    ("flask", "Werkzeug, Flask and extensions (request, forms, sessions)"),
    ("zlib", "zlib (PDF compression)"),
    ("_cffi_backend", "Pango, HarfBuzz (C, through cffi)"),
    ("/engine/", "engine/ (our code)"),
)


def _area(where: str) -> str:
    for needle, name in AREAS:
        if needle in where:
            return name
    return "other (stdlib: hashing, I/O, dataclasses, …)"


def by_area(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Self time (tottime) summed per area, largest first, as fractions of the total."""
    stats = pstats.Stats(profile)
    totals: Counter = Counter()
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[_area(filename if filename != "~" else name)] += tottime  # "~": a C built-in, named by its method
    whole = sum(totals.values()) or 1.0
    return [(name, seconds / whole) for name, seconds in totals.most_common()]


def _print(title: str, profile: cProfile.Profile, per: int, top: int = 12) -> None:
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\n## {title}: {total / per * 1000:.1f} ms each under the profiler ({per} runs)")
    for name, share in by_area(profile):
        if share >= 0.01:
            print(f"  {share * 100:5.1f}%  {name}")
    print(f"  top {top} by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"  top {top // 2} by own time:")
    stats.sort_stats("tottime").print_stats(top // 2)


def profile_completion(engine, n: int) -> None:
    _cast(engine)
    officer = user_id_of(engine, "张伟")
    items = [_item(engine, i) for i in range(1, n + 1)]
    tasks = [_open_task(engine, item) for item in items]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine.db.engine, "before_cursor_execute", count)
    profile = cProfile.Profile()
    profile.enable()
    for task in tasks:
        complete_task(engine, task, dict(FIX), officer, None, EVIDENCE)
    profile.disable()
    event.remove(engine.db.engine, "before_cursor_execute", count)
    _print("Task completion (落实整改, end to end)", profile, n)
    kinds = Counter(statements)
    print(f"  SQL statements per completion: {len(statements) / n:.1f} "
          f"({', '.join(f'{k} {v / n:.1f}' for k, v in kinds.most_common())})")


def profile_start(engine, n: int) -> None:
    if not engine_has_cast(engine):
        _cast(engine)
    profile = cProfile.Profile()
    profile.enable()
    for i in range(n):
        _item(engine, 500_000 + i)
    profile.disable()
    _print("Starting an item (create + start its path: the import path per row)", profile, n)


def profile_closure(engine, n: int) -> None:
    init_dev_certificate(engine, "市政工程管理处")
    creds = credentials(engine)
    record = sample_record(5, 10)
    args = ("0" * 64, "ABCD-EFGH-JKMN", "2026-11-22T09:00:00+08:00", creds)
    render_and_sign(record, *args)  # fonts loaded once per process, as in a server
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        render_and_sign(record, *args)
    profile.disable()
    _print("Closure record (销号单: render + PAdES sign, 5 signatures, 10 evidence files)", profile, n)


def profile_requests(engine, n: int) -> None:
    """One person's cycle as bench_http drives it (inbox page, task page, completing with an upload),
    in-process through the Flask test client: what a request costs apart from the network and gunicorn."""
    import re

    from web import create_app

    if not engine_has_cast(engine):
        _cast(engine)
    items = [_item(engine, 700_000 + i) for i in range(n)]
    app = create_app({"RECTIFY_SETTINGS": engine.settings})
    app.extensions["rectify"] = engine
    client = app.test_client()
    token = lambda page: re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # noqa: E731
    client.post("/login", data={"name": "张伟", "password": "bench-pass-2026", "csrf_token": token(client.get("/login"))})
    statements: list[str] = []
    event.listen(engine.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    profile = cProfile.Profile()
    profile.enable()
    for item in items:
        client.get("/inbox")
        task_url = f"/tasks/{_open_task(engine, item)}"
        page = client.get(task_url)
        done = client.post(task_url, data={**FIX, "csrf_token": token(page), "evidence": (io.BytesIO(EVIDENCE[0].content), "回单.pdf")})
        assert done.status_code == 302, done.status_code
    profile.disable()
    _print("One HTTP cycle (inbox page + task page + completing with an upload), in-process", profile, n)
    print(f"  SQL statements per cycle: {len(statements) / n:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="整改流程引擎：主要开销剖析")
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--only", default="completion,start,closure,http")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    engine = fresh_engine(args.db)
    if "completion" in wanted:
        profile_completion(engine, 100)
    if "start" in wanted:
        profile_start(engine, 100)
    if "closure" in wanted:
        profile_closure(engine, 5)
    if "http" in wanted:
        profile_requests(engine, 50)


if __name__ == "__main__":
    main()
