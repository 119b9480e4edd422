"""5. Documents: a closure record (5 signatures, 10 evidence files) rendered and signed; the public
progress report of 25 and of 500 items."""
from __future__ import annotations

import time
import tracemalloc
from datetime import date, timedelta

from engine.closure.pdf import render_and_sign, sample_record
from engine.closure.signing import credentials, init_dev_certificate
from engine.ledger.items import NewItem, create_item
from engine.ledger.rounds import add_round, find_round
from engine.reports.progress import progress_report, render_progress_pdf
from engine.store.models import CATEGORIES

from .harness import summary


def _closure(engine, repeats: int) -> dict:
    init_dev_certificate(engine, "市政工程管理处")
    creds = credentials(engine)
    record = sample_record(5, 10)
    render_and_sign(record, "0" * 64, "ABCD-EFGH-JKMN", "2026-11-22T09:00:00+08:00", creds)  # warm-up: fonts
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        render_and_sign(record, "0" * 64, "ABCD-EFGH-JKMN", "2026-11-22T09:00:00+08:00", creds)
        samples.append(time.perf_counter() - start)
    tracemalloc.start()
    render_and_sign(record, "0" * 64, "ABCD-EFGH-JKMN", "2026-11-22T09:00:00+08:00", creds)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return summary(samples) | {"peak_mib": peak}


def _report(engine, name: str, items: int, repeats: int) -> dict:
    add_round(engine, name, "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=30))
    with engine.db.transaction() as s:
        round_ = find_round(s, name)
        for i in range(items):
            create_item(engine, s, round_, NewItem(
                number=str(i + 1), title=f"问题{i + 1}", category=CATEGORIES[i % 3], unit=f"科室{i % 12}",
                person=f"责任人{i % 40}", leader="陈刚", deadline=date.today() + timedelta(days=60),
                aspect=f"（{i % 8 + 1}）方面{i % 8 + 1}", description="巡察发现的问题。"))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        render_progress_pdf(progress_report(engine, name))
        samples.append(time.perf_counter() - start)
    return summary(samples)


def run(engine, quick: bool = False) -> dict:
    return {
        "closure": _closure(engine, 3 if quick else 15),
        "report_25": _report(engine, "公布基准25", 25, 2 if quick else 5),
        "report_500": _report(engine, "公布基准500", 100 if quick else 500, 1 if quick else 3),
    }
