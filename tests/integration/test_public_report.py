"""The public report never publishes accountability on its own: what 纪检监察 recorded in a 问责
step stays internal; 整改办 may publish one sentence of its own per item."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpers import do, task_id

from engine.ledger.items import set_public_accountability
from engine.process.timers import tick
from engine.reports.progress import progress_report

SECRET = "对王强进行诫勉谈话，对相关人员约谈并通报批评"


def _problem(report, item_id):
    return next(p for section in report["sections"] for aspect in section["aspects"] for p in aspect["problems"]
                if p["item_id"] == item_id)


def test_a_accountability_step_is_never_the_public_text(engine, item):
    moment = datetime.combine(engine.clock.now().date() + timedelta(days=120), time(9), ZoneInfo(engine.settings.timezone))
    tick(engine, moment)  # far past the deadline: the 问责 task goes to 纪检监察
    task_id(engine, item, "accountability_task")
    do(engine, item, "accountability_task", "吴磊", {"handling": "诫勉谈话", "measures": SECRET,
                                                    "handled_on": moment.date().isoformat()})
    problem = _problem(progress_report(engine, "测试轮次"), item)
    assert SECRET not in problem["done"] and not problem["accountability"]
    assert "正在整改中" in problem["status_sentence"]

    set_public_accountability(engine, item, "对相关责任人进行了批评教育", actor="周婷")
    problem = _problem(progress_report(engine, "测试轮次"), item)
    assert problem["accountability"] == "对相关责任人进行了批评教育。" and SECRET not in problem["done"]
