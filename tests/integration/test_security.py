"""Reliability under concurrency and against a database edited behind the system's back, on SQLite
and PostgreSQL."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpers import new_item
from sqlalchemy import func, select

from engine import Engine
from engine.process.timers import tick
from engine.store.models import IMMEDIATE, AuditEntry


def test_two_ticks_at_once_write_one_lights_audit_entry(engine, item):
    for n in range(2, 12):
        new_item(engine, IMMEDIATE, number=str(n))
    deadline = datetime.fromisoformat(engine.lights.escalation_moment(engine.clock.now().date()).isoformat())
    moment = datetime.combine(deadline.date() + timedelta(days=90), time(9), ZoneInfo(engine.settings.timezone))
    workers = [Engine(replace(engine.settings, outbox_dispatch="deferred")) for _ in range(2)]
    start, reports = threading.Barrier(2), []

    def run(worker):
        start.wait()
        reports.append(tick(worker, moment).lights_changed)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    with engine.db.reading() as session:
        entries = session.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "lights.update")).scalar_one()
    assert entries == 1
    assert sorted(sum(r.values()) for r in reports) == [0, 11]  # one tick changed every light, the other none
    for w in workers:
        w.close()
