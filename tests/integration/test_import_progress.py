"""`rectify ledger import --json` reports progress as JSON lines on stderr and the result on stdout."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import new_round
from ledger_fixture import ledger_xlsx

ROOT = Path(__file__).resolve().parents[2]


def test_json_progress_lines_then_one_result(engine, item, tmp_path):
    new_round(engine, "第二轮")
    (tmp_path / "台账.xlsx").write_bytes(ledger_xlsx())
    env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "ledger", "import",
                           str(tmp_path / "台账.xlsx"), "--round", "第二轮", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    progress = [json.loads(line)["progress"] for line in done.stderr.splitlines() if line.startswith("{")]
    assert progress[-1] == {"done": 25, "total": 25}
    assert len(json.loads(done.stdout)["created"]) == 25


def test_a_background_imports_progress_is_seen_by_another_machine_while_it_runs(engine, tmp_path, monkeypatch):
    """The job page may be answered by another app process than the one importing (several machines on one
    PostgreSQL; on SQLite, another process of the one machine): it must see the progress before the import's
    transaction commits."""
    from dataclasses import replace

    from engine import Engine
    from engine.ledger.xlsx import jobs

    new_round(engine, "第二轮")
    folder = tmp_path / "other" if not engine.db.is_sqlite else engine.settings.instance_path
    other = Engine(replace(engine.settings, instance_path=folder))
    seen, write = [], jobs._write_progress

    def watched(eng, job_id, done, total):
        write(eng, job_id, done, total)
        view = jobs.get_job(other, job_id)
        seen.append((view["status"], view["progress"], view["result"]))

    monkeypatch.setattr(jobs, "_write_progress", watched)
    job = jobs.queue_import(engine, "第二轮", engine.uploads.put(ledger_xlsx()), "周婷", "台账.xlsx")
    engine.outbox.run()  # runs the job unless the engine's dispatch already did after the commit
    assert seen and seen[-1] == (jobs.QUEUED, {"done": 25, "total": 25}, None)
    done = jobs.get_job(other, job["id"])
    assert done["status"] == jobs.DONE and done["progress"] == {"done": 25, "total": 25}
    assert done["result"]["created"] == 25
    other.close()
