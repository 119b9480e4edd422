"""4. Importing (and so starting) a 2,000-row ledger: preview, import, peak Python memory."""
from __future__ import annotations

import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

from engine.ledger.rounds import add_round
from engine.ledger.xlsx.importing import apply_import, preview_import
from engine.store.models import CATEGORIES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ledger_fixture import ASPECTS, HEADER, PROBLEMS, workbook_bytes  # noqa: E402


def big_ledger(rows: int) -> bytes:
    """A realistic ledger of `rows` problems over 8 aspects, 40 units and 150 people per name."""
    today = date.today()
    out = []
    for n in range(1, rows + 1):
        aspect, title, _, unit, person, leader, days, _ = PROBLEMS[n % len(PROBLEMS)]
        deadline = today + timedelta(days=days + n % 90)
        out.append({"序号": n, "方面": ASPECTS[aspect], "问题": f"{title}（{n}）", "问题描述": f"巡察发现{title}。",
                    "整改类别": CATEGORIES[n % 3], "责任单位": f"{unit}{n % 40}", "责任人": f"{person}{n % 150}",
                    "分管领导": leader, "完成标准": "整改到位",
                    "整改时限": datetime(deadline.year, deadline.month, deadline.day) if n % 2 else deadline.isoformat()})
    return workbook_bytes(out, HEADER)


def run(make_engine, rows: int = 2_000) -> dict:
    data = big_ledger(rows)
    result = {"rows": rows, "xlsx_kib": round(len(data) / 1024)}
    for traced in (False, True):  # time without tracemalloc (it slows Python), then the memory peak
        engine = make_engine()
        add_round(engine, "导入基准", "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=20))
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        plan = preview_import(engine, "导入基准", data)
        previewed = time.perf_counter()
        created = apply_import(engine, "导入基准", data, actor="bench")
        done = time.perf_counter()
        assert plan.ok and len(created["created"]) == rows
        if traced:
            result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            result.update(preview_seconds=previewed - start, import_seconds=done - previewed,
                          ms_per_row=(done - previewed) / rows * 1000)
        engine.close()
    return result
