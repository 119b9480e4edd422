"""10. Province scale: 20,000 items in 10 rounds (~1,760 units, ~6,000 people) and ~200,000 task
records. A `tick` firing ~8,000 timers (firings/s), then every list and figure page as 整改办 and
as 纪检监察 (whose pool then holds thousands of 问责 tasks) through the Flask test client, one worker:
p50/p95 of ~20 requests each, SQL statements per request and the HTML size.

The data set is built once (benchmarks/scale_data.py); on SQLite the built database is kept in the
temporary folder for the next run, on PostgreSQL it is built in a schema of its own and dropped."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, text

from engine import Engine, Settings
from engine.process.deploy import deploy_defaults
from engine.process.timers import tick
from engine.store.models import Item, Round, Timer
from engine.store.schema import MIGRATIONS, head_revision, upgrade

from . import scale_data
from .harness import PG_BASE, databases, summary

SCHEMA = "rectify_bench_scale"
CACHE = Path(tempfile.gettempdir()) / "rectify-bench-scale"
TIMERS_TO_FIRE = 8_000
PAGE_TARGET_MS, DASHBOARD_TARGET_MS, HTML_TARGET_KB = 300, 200, 300
EXPORT_TARGET_S = 5.0  # the whole body's ledger (20,000 rows) as .xlsx


def sizes(quick: bool) -> dict:
    if quick:
        return {"rounds": 2, "per_round": 200, "history": 4_000, "timers": 160, "requests": 6}
    return {"rounds": 10, "per_round": 2_000, "history": 200_000, "timers": TIMERS_TO_FIRE, "requests": 20}


def _engine(url: str, folder: Path) -> Engine:
    return Engine(replace(Settings.from_env(), database_url=url, instance_path=folder / "instance"))


def _pg_url(admin_sql: str | None = None) -> str:
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        if admin_sql:
            conn.execute(text(admin_sql))
    admin.dispose()
    return f"{PG_BASE}?options=-csearch_path%3D{SCHEMA}"


def _cache_key(size: dict) -> str:
    """The size, and a hash of what made the database: this builder and the migrations."""
    digest = hashlib.sha256((Path(__file__).parent / "scale_data.py").read_bytes())
    for migration in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(migration.read_bytes())
    return f"{size['rounds']}x{size['per_round']}-{head_revision()}-{digest.hexdigest()[:10]}"


def prepare(db: str, size: dict) -> tuple[Engine, Path, dict, float]:
    """A migrated database holding the data set: (engine, its folder, what was built, seconds to build)."""
    folder = Path(tempfile.mkdtemp(prefix=f"rectify-bench-scale-{db}-"))
    start = time.perf_counter()
    if db == "sqlite":
        cached = CACHE / _cache_key(size)
        if (cached / "facts.json").exists():
            shutil.copytree(cached, folder, dirs_exist_ok=True)
            engine = _engine(f"sqlite:///{folder / 'bench.db'}", folder)
            return engine, folder, json.loads((folder / "facts.json").read_text()), 0.0
        engine = _engine(f"sqlite:///{folder / 'bench.db'}", folder)
    else:
        engine = _engine(_pg_url(f"CREATE SCHEMA {SCHEMA}"), folder)
    upgrade(engine)
    deploy_defaults(engine, actor="bench")
    facts = scale_data.build(engine, size["rounds"], size["per_round"], size["history"])
    seconds = time.perf_counter() - start
    if db == "sqlite":
        with engine.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        (folder / "facts.json").write_text(json.dumps(facts))
        for stale in CACHE.glob(f"{size['rounds']}x{size['per_round']}-*"):  # one cached set of each size
            shutil.rmtree(stale, ignore_errors=True)
        shutil.copytree(folder, CACHE / _cache_key(size))
    return engine, folder, facts, seconds


def fire_timers(engine: Engine, count: int) -> dict:
    """`tick` at the moment the `count`-th earliest timer is due: ~count firings (more if a firing makes
    a further timer that is also due)."""
    with engine.db.reading() as s:
        waiting = s.execute(select(func.count()).select_from(Timer)).scalar_one()
        moment = s.execute(select(Timer.due_at).order_by(Timer.due_at).offset(count - 1).limit(1)).scalar_one()
    start = time.perf_counter()
    report = tick(engine, moment)
    seconds = time.perf_counter() - start
    return {"moment": moment.isoformat(), "timers_waiting": waiting, "timers_fired": report.timers_fired,
            "instances": report.instances_advanced, "lights_changed": report.lights_changed, "seconds": seconds,
            "firings_per_second": report.timers_fired / seconds, "_moment": moment}


class Statements:
    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine.db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1


def _client(engine: Engine, name: str):
    from web import create_app, settle_heap

    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": engine.settings})
    app.extensions["rectify"].close()
    app.extensions["rectify"] = engine
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"name": name, "password": scale_data.PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, f"{name} could not log in ({answer.status_code})"
    settle_heap()  # as `rectify serve` does in each worker once its app is built
    return client


def measure(client, statements: Statements, urls: list[str], requests: int) -> dict:
    """p50/p95 over `requests` GETs (after one warm-up), cycling through `urls`; statements and size."""
    samples, counts, sizes_ = [], [], []
    client.get(urls[0])
    for n in range(requests):
        url = urls[n % len(urls)]
        before = statements.count
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        counts.append(statements.count - before)
        sizes_.append(len(response.data))
    figures = summary(samples)
    return {"url": urls[0], "p50_ms": figures["median_ms"], "p95_ms": figures["p95_ms"], "n": len(samples),
            "statements": max(counts), "html_kb": max(sizes_) / 1024}


def pages(engine: Engine, facts: dict, moment, requests: int) -> dict:
    """Every measured page, with the clock at the tick's moment (lights, overdue, sessions agree)."""
    with engine.db.reading() as s:
        round_id = facts["rounds"][-1]
        item_ids = s.execute(select(Item.id).where(Item.round_id == round_id).order_by(Item.id).limit(20)).scalars().all()
        rounds = s.execute(select(func.count()).select_from(Round)).scalar_one()
        person = s.execute(select(Item.person_id).where(Item.id == item_ids[0])).scalar_one()
        pool = s.execute(text("SELECT count(*) FROM inbox_tasks WHERE lane_role = '纪检监察' AND assignee_id IS NULL")).scalar_one()
    statements = Statements(engine)
    out = {"round_count": rounds, "discipline_pool_tasks": pool}
    with engine.clock.pinned(moment + timedelta(minutes=5)):
        office = _client(engine, "周婷")
        cases = {
            "items_first_page": ["/items"],
            "items_search_unit": ["/items?q=第17分部"],
            "items_search_2_chars": ["/items?q=津贴"],
            "items_search_person": ["/items?q=干部0123"],
            "items_light_red": ["/items?light=红"],
            "items_last_page": ["/items?page=400"],
            "dashboard": ["/dashboard"],
            "round_dashboard": [f"/rounds/{round_id}/dashboard"],
            "item_page": [f"/items/{i}" for i in item_ids],
            "items_overdue": ["/items?overdue=1"],
            "rounds": ["/rounds"],
            "round_page": [f"/rounds/{round_id}"],
            "lookbacks": [f"/rounds/{round_id}/lookbacks"],
            "activities": [f"/rounds/{round_id}/activities"],
            "notifications_office": ["/notifications"],
            "inbox_office": ["/inbox"],
        }
        for key, urls in cases.items():
            print(f"   {key}", file=sys.stderr)
            out[key] = measure(office, statements, urls, requests)
        discipline = _client(engine, "吴磊")
        for key, urls in {"inbox_discipline": ["/inbox"], "notifications_discipline": ["/notifications"]}.items():
            out[key] = measure(discipline, statements, urls, requests)
        admin = _client(engine, "孙浩")
        out["admin_users"] = measure(admin, statements, ["/admin/users"], requests)
        out["admin_user"] = measure(admin, statements, [f"/admin/users/{person}"], requests)
        out["admin"] = measure(admin, statements, ["/admin"], requests)
    return out


def _memory_kib(field: str) -> int | None:
    """VmHWM (peak) or VmRSS of this process from /proc (Linux; None elsewhere)."""
    try:
        return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    except (OSError, AttributeError):
        return None


def export_all_figures(engine: Engine, folder: Path, moment) -> dict:
    """The whole body's ledger in one sheet: `rectify ledger export --all` to a file (seconds, CPU seconds,
    rows, size, and the process's peak resident memory during it: the peak is reset first, so it is
    this export's), then 整改办's /items/export.xlsx once through the test client (the same rows, the
    filters' query and the temporary file the response streams)."""
    from engine.ledger.xlsx.export import export_all

    out = folder / "export-all.xlsx"
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    except OSError:
        pass
    before = _memory_kib("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    with engine.clock.pinned(moment + timedelta(minutes=5)):
        counts = export_all(engine, out)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak = _memory_kib("VmHWM")
    with engine.clock.pinned(moment + timedelta(minutes=5)):
        office = _client(engine, "周婷")
        start = time.perf_counter()
        response = office.get("/items/export.xlsx")
        web = len(response.get_data())
        web_seconds = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    return counts | {"seconds": seconds, "cpu_seconds": cpu_seconds, "kib": out.stat().st_size // 1024,
                     "rss_before_mib": before / 1024 if before else None,
                     "peak_rss_mib": peak / 1024 if peak else None, "web_seconds": web_seconds, "web_kib": web // 1024}


def report_pdf(quick: bool) -> dict | None:
    """The report PDFs of a 2,000-item round and their peak memory (benchmarks/bench_reports.py, another
    engineer's benchmark, run from here when it is there)."""
    try:
        from . import bench_reports
    except ImportError:
        return None
    return bench_reports.run(quick)


def _verdict(figures: dict) -> dict:
    misses = []
    for key, row in figures.items():
        if not isinstance(row, dict) or "p95_ms" not in row:
            continue
        limit = DASHBOARD_TARGET_MS if "dashboard" in key else PAGE_TARGET_MS
        if row["p95_ms"] > limit:
            misses.append(f"{key} p95 {row['p95_ms']:.0f} ms > {limit}")
        if row["html_kb"] > HTML_TARGET_KB:
            misses.append(f"{key} HTML {row['html_kb']:.0f} KB > {HTML_TARGET_KB}")
    export = figures.get("export_all")
    if export and export["seconds"] > EXPORT_TARGET_S:
        misses.append(f"台账全部导出 {export['seconds']:.1f} 秒 > {EXPORT_TARGET_S:.0f}")
    return {"misses": misses}


def run_one(db: str, quick: bool) -> dict:
    size = sizes(quick)
    print(f"== scale {db}: building", file=sys.stderr)
    engine, folder, facts, built = prepare(db, size)
    try:
        print(f"== scale {db}: tick", file=sys.stderr)
        timers = fire_timers(engine, size["timers"])
        moment = timers.pop("_moment")
        print(f"== scale {db}: pages", file=sys.stderr)
        figures = pages(engine, facts, moment, size["requests"])
        print(f"== scale {db}: export --all", file=sys.stderr)
        figures["export_all"] = export_all_figures(engine, folder, moment)
    finally:
        engine.close()
        if db == "postgres":
            _pg_url()
        shutil.rmtree(folder, ignore_errors=True)
    figures["tick"] = timers
    return {"built": facts | {"seconds": built}, "pages": figures} | _verdict(figures)


def run(quick: bool) -> dict:
    result = {db: run_one(db, quick) for db in databases()}
    pdf = report_pdf(quick)
    result["report_pdf"] = pdf if pdf is not None else "benchmarks/bench_reports.py 不存在：未测"
    return result


LABELS = {
    "items_first_page": "/items 第一页（整改办）", "items_search_unit": "/items?q=单位名称片段", "items_search_2_chars": "/items?q=两个汉字",
    "items_search_person": "/items?q=责任人", "items_light_red": "/items?light=红", "items_last_page": "/items 末页",
    "dashboard": "/dashboard（目标 ≤200）", "round_dashboard": "/rounds/<id>/dashboard（目标 ≤200）", "item_page": "/items/<id>",
    "items_overdue": "/items?overdue=1", "rounds": "/rounds", "round_page": "/rounds/<id>",
    "lookbacks": "/rounds/<id>/lookbacks", "activities": "/rounds/<id>/activities", "notifications_office": "/notifications（整改办）", "inbox_office": "/inbox（整改办）",
    "inbox_discipline": "/inbox（纪检监察，问责任务池）", "notifications_discipline": "/notifications（纪检监察）",
    "admin_users": "/admin/users（6,000 人）", "admin_user": "/admin/users/<id>", "admin": "/admin",
}


def table(scale: dict) -> str:
    """The scale section of `make bench`'s table: p50 / p95 ms, statements and KB per page and database."""
    dbs = [db for db in scale if isinstance(scale[db], dict) and "pages" in scale[db]]
    lines = ["10 规模（" + "；".join(f"{db}: {scale[db]['built']['items']:,} 项 {len(scale[db]['built']['rounds'])} 轮，"
                                     f"{scale[db]['built']['records']:,} 条办理记录，{scale[db]['built']['units']:,} 个单位，"
                                     f"{scale[db]['built']['users']:,} 人" for db in dbs) + "）",
             f"{'页面 p50 / p95 ms，SQL 语句数，HTML KB（目标 p95 ≤300，HTML ≤300 KB）':<60}" + "".join(f"{db:>34}" for db in dbs)]
    for key, label in LABELS.items():
        cells = []
        for db in dbs:
            row = scale[db]["pages"].get(key)
            cells.append(f"{row['p50_ms']:.0f} / {row['p95_ms']:.0f}，{row['statements']} 条，{row['html_kb']:.0f} KB" if row else "—")
        lines.append(f"{label:<60}" + "".join(f"{c:>34}" for c in cells))
    lines.append(f"{'tick 触发定时器 个/秒（触发数）':<60}" + "".join(
        f"{scale[db]['pages']['tick']['firings_per_second']:.0f}/s（{scale[db]['pages']['tick']['timers_fired']:,}）".rjust(34)
        for db in dbs))
    if any("export_all" in scale[db]["pages"] for db in dbs):
        lines.append(f"{'台账全部导出 .xlsx 秒（行数；内存峰值增量 MiB；/items/export.xlsx 秒）目标 ≤5':<60}" + "".join(
            (f"{e['seconds']:.1f}（{e['rows']:,} 行；+{(e['peak_rss_mib'] or 0) - (e['rss_before_mib'] or 0):.0f} MiB；"
             f"{e['web_seconds']:.1f}）" if (e := scale[db]["pages"].get("export_all")) else "—").rjust(34) for db in dbs))
    pdf = scale.get("report_pdf")
    if isinstance(pdf, dict):  # benchmarks/bench_reports.py: each document in a process of its own
        lines.append(f"报告（{pdf['items']:,} 项的轮次，SQLite）：" + "；".join(
            f"{doc} {row['seconds']:.1f} 秒、峰值 {row['peak_rss_mib']:.0f} MiB" for doc, row in pdf.items()
            if isinstance(row, dict)))
    else:
        lines.append(f"报告 PDF：{pdf}")
    for db in dbs:
        if scale[db]["misses"]:
            lines.append(f"未达标（{db}）：" + "；".join(scale[db]["misses"]))
    return "\n".join(lines)
