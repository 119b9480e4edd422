"""9. The timer sweep: `tick` firing every due timer of a freshly imported round at once (each item's
问责 moment, plans and monthly reports come due), firings per second on one worker."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from engine.ledger.rounds import add_round
from engine.ledger.xlsx.importing import apply_import
from engine.process.timers import tick

from .bench_import import big_ledger


def run(make_engine, rows: int = 2_000) -> dict:
    engine = make_engine()
    add_round(engine, "定时基准", "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=20))
    apply_import(engine, "定时基准", big_ledger(rows), actor="bench")
    # Past every item's deadline and 红 point: each item's 问责 timer (and plan, report timers) fire.
    moment = datetime.combine(date.today() + timedelta(days=160), clock_time(9), ZoneInfo(engine.settings.timezone))
    start = time.perf_counter()
    report = tick(engine, moment)
    seconds = time.perf_counter() - start
    engine.close()
    return {"items": rows, "timers_fired": report.timers_fired, "instances": report.instances_advanced,
            "seconds": seconds, "firings_per_second": report.timers_fired / seconds,
            "lights_changed": report.lights_changed}
