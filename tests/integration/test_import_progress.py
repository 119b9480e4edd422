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
