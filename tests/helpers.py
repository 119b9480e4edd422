"""Helpers to drive items through their paths in tests, the way people would."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import make_url

from engine.config import Settings
from engine.demo import DEMO_USERS
from engine.ledger.detail import item_detail
from engine.ledger.items import NewItem, add_item
from engine.ledger.rounds import add_round
from engine.people.directory import add_user, user_id_of
from engine.work.completion import complete_task
from engine.work.evidence import Upload

PASSWORD = "test-pass-2026"
# The body's date, as the engine counts days (its time zone, not the machine's: 22:00 UTC is
# already tomorrow in Beijing).
TODAY = datetime.now(ZoneInfo(Settings.timezone)).date()
FEEDBACK = TODAY - timedelta(days=20)
DEADLINE = TODAY + timedelta(days=60)


def people(engine) -> None:
    for name, unit, roles in DEMO_USERS:
        add_user(engine, name, unit, roles, PASSWORD)


def new_round(engine, name: str = "测试轮次") -> str:
    add_round(engine, name, "市委第三巡察组", "市政工程管理处", FEEDBACK)
    return name


def new_item(engine, category: str, number: str = "1", deadline: date = DEADLINE, third_party=False,
             round_name: str = "测试轮次", unit="财务科", person="张伟") -> int:
    return add_item(engine, round_name, NewItem(
        number=number, title=f"测试问题{number}", category=category, unit=unit, person=person, leader="陈刚",
        deadline=deadline, aspect="（一）测试方面", third_party=third_party,
    ))["id"]


def open_tasks(engine, item_id: int) -> list[dict]:
    return item_detail(engine, item_id)["open_tasks"]


def task_id(engine, item_id: int, bpmn_id: str) -> str:
    matching = [t for t in open_tasks(engine, item_id) if t["bpmn_id"] == bpmn_id]
    assert len(matching) == 1, f"expected one open {bpmn_id}, open: {[t['bpmn_id'] for t in open_tasks(engine, item_id)]}"
    return matching[0]["id"]


def do(engine, item_id: int, bpmn_id: str, who: str, data: dict, password: str | None = None, files=()):
    tid = task_id(engine, item_id, bpmn_id)
    return complete_task(engine, tid, data, user_id_of(engine, who), password, tuple(files))


def sign(engine, item_id, bpmn_id, who, decision="approve", opinion="同意"):
    return do(engine, item_id, bpmn_id, who, {"decision": decision, "opinion": opinion}, PASSWORD)


def evidence(name="整改佐证.pdf", content=b"%PDF-1.4 evidence"):
    return (Upload(name, content),)


FIX = {"measures": "已追回违规发放的津贴", "result": "全部追回并上缴", "completed_on": "2026-03-01"}


def close_immediate_item(engine, item_id: int, officer: str = "张伟", head: str = "李娜", leader: str = "陈刚", *,
                         returns=(), fix: dict = FIX, files=None, opinions=("同意", "同意")) -> dict:
    """An 立行立改 item to 已销号 the way its people do it: the officer submits `fix` with evidence (落实整改);
    for each opinion in `returns` the head 退回s it and the officer submits again; then the head approves
    (审核) and the leader signs it off (签字销号).

    files: the evidence of each submission in turn, the last one repeated (default: evidence() every time).
    opinions: the approving opinions of the head and of the leader.
    Returns the leader's sign-off, having checked that the item is 已销号."""
    submissions = [tuple(f) for f in files] if files is not None else [evidence()]
    submissions += [submissions[-1]] * (len(returns) + 1 - len(submissions))
    head_opinion, leader_opinion = opinions
    do(engine, item_id, "fix_task", officer, fix, files=submissions[0])
    for opinion, again in zip(returns, submissions[1:]):
        sign(engine, item_id, "unit_head_review", head, "reject", opinion)
        do(engine, item_id, "fix_task", officer, fix, files=again)
    sign(engine, item_id, "unit_head_review", head, "approve", head_opinion)
    signed_off = sign(engine, item_id, "leader_signoff", leader, "approve", leader_opinion)
    assert item_detail(engine, item_id)["status"] == "已销号", signed_off
    return signed_off


def pdf_text(pdf: bytes, squeeze: bool = False, *, page: int | None = None) -> str:
    """What `pdftotext -enc UTF-8` reads in a PDF (poppler-utils, installed by `make test`); one page if given.
    squeeze=True drops the page numbers (— 3 —) and all whitespace, so that a sentence wrapped across
    lines or pages is found whole."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        pages = ["-f", str(page), "-l", str(page)] if page else []
        text = subprocess.run(["pdftotext", *pages, "-enc", "UTF-8", file.name, "-"], check=True, capture_output=True,
                              text=True).stdout
    if squeeze:
        text = re.sub(r"\s+", "", re.sub(r"—\s*\d+\s*—", "", text))
    return text


def without_triggers(engine, table, *statements):
    """What a tamperer with database access would do: get past the append-only triggers. Each
    statement is SQL text, or (SQL text, bind parameters)."""
    from sqlalchemy import text

    with engine.db.engine.begin() as conn:
        if engine.db.is_sqlite:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, {})
            conn.execute(text(sql), params)
        if not engine.db.is_sqlite:  # the schema is shared by the run's later tests
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


# PostgreSQL for the tests: the server, and a URL that puts a connection in a schema of its own.
PG_SERVER = os.environ.get("RECTIFY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def in_schema(url: str, schema: str) -> str:
    """`url` with `schema` as its search_path, after any options the URL already has (the last one counts)."""
    parsed = make_url(url)
    options = " ".join(filter(None, [parsed.query.get("options"), f"-csearch_path={schema}"]))
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
