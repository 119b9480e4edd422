"""7. The daily digests of 20,000 open tasks held by 2,000 people (target ≤ 60 s, memory flat): the time
`notify run` takes to write every digest that is due (sending is the mail server's time, not ours)."""
from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import datetime, time, timezone

from sqlalchemy import update

from engine import Engine
from engine.notify.delivery import Delivery
from engine.notify.digest import queue_digests
from engine.store.models import User

from .bench_engine import bench_inbox
from .harness import stopwatch


def run(make_engine, tasks: int = 20_000, users: int = 2_000) -> dict:
    engine = make_engine()
    bench_inbox(engine, tasks=tasks * 2, users=users, queries=1)  # half the rows are held by a person
    with engine.db.transaction() as s:
        s.execute(update(User).values(email=User.name + "@example.gov.cn", digest_hour=0, notify_email=True))
    mailer = Engine(replace(engine.settings, smtp_url="smtp://127.0.0.1:1"))  # queued, not sent
    moment = datetime.combine(datetime.now(timezone.utc).date(), time(12), timezone.utc)
    tracemalloc.start()
    with stopwatch() as clock:
        queued = queue_digests(mailer, moment)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    with mailer.db.reading() as s:
        written = s.query(Delivery).count()
    mailer.close()
    engine.close()
    return {"open_tasks": tasks, "people": users, "digests": queued, "written": written, "seconds": clock["seconds"],
            "peak_mib": peak}
