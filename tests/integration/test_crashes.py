"""SIGKILL at random moments, 50 times (in waves of five workers at once, which also makes them race
each other), while people complete tasks, items close (their 销号单 made
after commit) and a ledger is imported — then nothing is half-written: every instance loads, the
inbox matches the engine, no signature lacks its step or the other way round, the import is whole
or absent, every event is handled exactly once, and the audit history verifies."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import new_item, new_round
from ledger_fixture import ledger_xlsx
from sqlalchemy import func, select

from engine.closure import signing
from engine.doctor import examine
from engine.integrity import verify_history
from engine.ledger.items import list_items
from engine.store.models import IMMEDIATE, Document, Item
from engine.store.outbox import OutboxEvent

ROOT = Path(__file__).resolve().parents[2]
KILLS, WAVE = 50, 5

WORKER = """
import sys
from engine import Engine, Settings
from engine.errors import EngineError
from engine.ledger.items import list_items
from engine.ledger.rounds import get_round
from engine.ledger.xlsx.importing import apply_import
from engine.people.directory import user_id_of
from engine.work.completion import complete_task
from engine.work.evidence import Upload
from engine.work.inbox import InboxFilter, inbox

engine = Engine(Settings.from_env())
ledger = open(sys.argv[1], "rb").read()
people = {name: user_id_of(engine, name) for name in ("张伟", "李娜", "陈刚")}
work_round = get_round(engine, "测试轮次")["id"]


def step() -> bool:
    for name, user in people.items():
        for task in inbox(engine, user, InboxFilter(round_id=work_round, per_page=1))["tasks"]:
            try:
                if task["signoff"]:
                    complete_task(engine, task["id"], {"decision": "approve", "opinion": "同意"}, user, "test-pass-2026")
                elif task["bpmn_id"] == "fix_task":
                    complete_task(engine, task["id"], {"measures": "m", "result": "r", "completed_on": "2026-11-20"},
                                  user, None, (Upload("回单.pdf", b"%PDF-1.4 " + task["id"].encode()),))
                else:
                    continue
                return True
            except EngineError:
                pass
    return False


while True:
    moved = step() or step()  # some completions (a closing among them), then the import if it is not in yet
    if not list_items(engine, "导入轮次"):
        apply_import(engine, "导入轮次", ledger, actor="chaos")
        moved = True
    if not moved:
        break
print("finished")
"""


def test_fifty_kills_leave_nothing_half_written(engine, item, tmp_path):
    signing.init_dev_certificate(engine, "市政工程管理处")
    for n in range(2, 13):
        new_item(engine, IMMEDIATE, number=str(n))
    new_round(engine, "导入轮次")
    (tmp_path / "台账.xlsx").write_bytes(ledger_xlsx())
    env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(ROOT),
           "RECTIFY_OUTBOX_DISPATCH": "inline"}
    chance = random.Random(20261201)
    for _ in range(KILLS // WAVE):
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / "台账.xlsx")], env=env, cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(WAVE)]
        started = time.monotonic()
        # each dies at its own moment; a worker needs about a second to start
        for worker, moment in sorted(zip(workers, (chance.uniform(0.8, 2.5) for _ in workers)), key=lambda w: w[1]):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            worker.send_signal(signal.SIGKILL)
        for worker in workers:
            worker.communicate()

    # After the crashes: a last worker finishes the work, then the outbox is drained.
    last = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / "台账.xlsx")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert last.returncode == 0 and "finished" in last.stdout, last.stderr[-2000:]
    engine.outbox.run()

    report = examine(engine)
    assert report.ok, [f.__dict__ for f in report.findings]
    history = verify_history(engine)
    assert history.ok, history.problems
    assert len(list_items(engine, "导入轮次")) == 25  # whole, never half
    with engine.db.reading() as session:
        closed = session.execute(select(func.count(Item.id)).where(Item.status == "已销号")).scalar_one()
        records = session.execute(select(func.count(func.distinct(Document.item_id)))).scalar_one()
        per_item = session.execute(select(func.count(Document.id))).scalar_one()
        unhandled = session.execute(select(func.count(OutboxEvent.id)).where(OutboxEvent.handled_at.is_(None))).scalar_one()
    assert closed == 12 and records == 12 and per_item == 12  # every closed item: exactly one record
    assert unhandled == 0
