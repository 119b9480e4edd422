"""5. Documents: a closure record (5 signatures, 10 evidence files) rendered and signed; what the
closing sign-off costs its signer now that the record is made after commit; the public progress
report of 25 and of 500 items."""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import replace
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


def _closing(engine, repeats: int) -> dict:
    """The closing sign-off (分管领导 签字销号 of a 立行立改 item) as its signer waits for it: with
    the record made after commit elsewhere (`deferred`, as the web app's background thread does) and
    with the caller also waiting for the record (`inline`: what every closing cost before the outbox,
    when the PDF was made inside the closing transaction). Alternating, same items, one run."""
    from sqlalchemy import select

    from engine import Engine
    from engine.people.directory import user_id_of
    from engine.store.models import InboxTask
    from engine.work.completion import complete_task

    from .bench_engine import EVIDENCE, FIX, PASSWORD, _cast, _item

    _cast(engine)  # the certificate is the one _closure installed
    officer, head, leader = (user_id_of(engine, n) for n in ("张伟", "李娜", "陈刚"))
    engines = {mode: Engine(replace(engine.settings, outbox_dispatch=mode)) for mode in ("deferred", "inline")}

    def task_of(item_id):
        with engine.db.reading() as s:
            return s.execute(select(InboxTask.id).where(InboxTask.item_id == item_id)).scalar_one()

    samples = {"deferred": [], "inline": [], "record_after_commit": []}
    for n in range(2 * repeats + 2):
        item = _item(engine, 10_000 + n)
        complete_task(engine, task_of(item), dict(FIX), officer, None, EVIDENCE)
        complete_task(engine, task_of(item), {"decision": "approve", "opinion": "同意"}, head, PASSWORD)
        mode = "deferred" if n % 2 else "inline"
        start = time.perf_counter()
        complete_task(engines[mode], task_of(item), {"decision": "approve", "opinion": "同意销号"}, leader, PASSWORD)
        if n >= 2:  # the first two warm up fonts and parsed processes
            samples[mode].append(time.perf_counter() - start)
        if mode == "deferred":
            start = time.perf_counter()
            engines[mode].outbox.run()
            if n >= 2:
                samples["record_after_commit"].append(time.perf_counter() - start)
    for e in engines.values():
        e.close()
    result = {key: summary(values) for key, values in samples.items()}
    result["saved_ms"] = result["inline"]["median_ms"] - result["deferred"]["median_ms"]
    return result


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
        "closing": _closing(engine, 3 if quick else 15),
        "report_25": _report(engine, "公布基准25", 25, 2 if quick else 5),
        "report_500": _report(engine, "公布基准500", 100 if quick else 500, 1 if quick else 3),
    }
