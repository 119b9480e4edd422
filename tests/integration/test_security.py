"""Reliability under concurrency and against a database edited behind the system's back, on SQLite
and PostgreSQL."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import new_item, without_triggers
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


def _head_who_also_fixes(engine, second_head: bool) -> int:
    """An item in a unit whose first 责任单位负责人 is also its 责任人 (the lowest user id of the role)."""
    from helpers import PASSWORD

    from engine.people.directory import add_user
    from engine.store.models import OFFICER, UNIT_HEAD

    add_user(engine, "周强", "审计科", [OFFICER, UNIT_HEAD], PASSWORD)
    if second_head:
        add_user(engine, "吴敏", "审计科", [UNIT_HEAD], PASSWORD)
    return new_item(engine, IMMEDIATE, number="20", unit="审计科", person="周强")


def test_a_review_never_goes_to_whoever_did_the_work(engine, item):
    from helpers import FIX, do, evidence, open_tasks, sign

    reviewed = _head_who_also_fixes(engine, second_head=True)
    do(engine, reviewed, "fix_task", "周强", FIX, files=evidence())
    [review] = open_tasks(engine, reviewed)
    assert review["assignee"] == "吴敏"  # the other head of the unit, not 周强 who fixed it
    sign(engine, reviewed, "unit_head_review", "吴敏")


def test_without_another_head_the_review_goes_to_the_office_and_doctor_is_content(engine, item):
    from helpers import FIX, do, evidence, open_tasks, sign

    from engine.doctor import examine

    lone = _head_who_also_fixes(engine, second_head=False)
    do(engine, lone, "fix_task", "周强", FIX, files=evidence())
    [review] = open_tasks(engine, lone)
    assert review["assignee"] == "周婷"  # the 整改办 of the demo cast
    assert examine(engine).ok
    sign(engine, lone, "unit_head_review", "周婷")
    assert [t["bpmn_id"] for t in open_tasks(engine, lone)] == ["leader_signoff"]


def test_doctor_names_a_task_nobody_may_complete_and_exits_1(engine, item, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from engine.doctor import examine
    from engine.store.models import User

    assert examine(engine).ok
    with engine.db.transaction() as session:  # the officer leaves without a handover
        session.execute(User.__table__.update().where(User.name == "张伟").values(active=False))
    report = examine(engine)
    assert not report.ok
    [finding] = report.findings
    assert finding.check == "tasks" and "落实整改" in finding.subject and f"问题 {item}" in finding.subject
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "doctor"], env=env,
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 1 and "没有任何人可以办理" in done.stdout


def _ledger_naming(leader: str, person: str = "张伟", unit: str = "财务科") -> bytes:
    from ledger_fixture import workbook_bytes

    return workbook_bytes([{"序号": 1, "方面": "（一）方面", "问题": "一个问题", "整改类别": "立行立改", "责任单位": unit,
                            "责任人": person, "分管领导": leader,
                            "整改时限": (datetime.now().date() + timedelta(days=30)).isoformat()}])


def test_a_ledger_never_grants_a_role_without_a_separate_confirmation(engine, item):
    from helpers import new_round

    from engine.ledger.items import list_items
    from engine.ledger.xlsx.importing import RoleChangesUnconfirmed, apply_import, preview_import

    new_round(engine, "第二轮")
    data = _ledger_naming("王强")  # an officer of 工程管理科, named as 分管领导
    plan = preview_import(engine, "第二轮", data)
    assert [(g["name"], g["unit"], g["role"]) for g in plan.role_grants] == [("王强", "工程管理科", "分管领导")]
    assert "全部单位" in plan.role_grants[0]["effect"]
    try:
        apply_import(engine, "第二轮", data, actor="周婷")
        raise AssertionError("imported without confirming the role grant")
    except RoleChangesUnconfirmed as refused:
        assert "王强（工程管理科）" in refused.field_errors
    assert list_items(engine, "第二轮") == []  # nothing written
    from engine.people.directory import user_id_of
    from engine.store.models import User

    with engine.db.reading() as session:
        assert "分管领导" not in session.get(User, user_id_of(engine, "王强")).roles
    apply_import(engine, "第二轮", data, actor="周婷", allow_role_changes=True)
    with engine.db.reading() as session:
        assert "分管领导" in session.get(User, user_id_of(engine, "王强")).roles


def test_namesakes_none_of_whom_leads_refuse_the_row(engine, item):
    from helpers import PASSWORD, new_round

    from engine.ledger.xlsx.importing import preview_import
    from engine.people.directory import add_user

    add_user(engine, "王强", "财务科", ["责任人"], PASSWORD)  # a second 王强
    new_round(engine, "第二轮")
    plan = preview_import(engine, "第二轮", _ledger_naming("王强"))
    [problem] = plan.problems
    assert problem.row is not None and problem.column == "分管领导" and "同名" in problem.message


def test_the_cli_refuses_role_changes_unless_allowed(engine, item, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from helpers import new_round

    new_round(engine, "第二轮")
    (tmp_path / "台账.xlsx").write_bytes(_ledger_naming("王强"))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(root)}

    def rectify(*args):
        return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], env=env,
                              capture_output=True, text=True, cwd=root, timeout=120)

    refused = rectify("ledger", "import", str(tmp_path / "台账.xlsx"), "--round", "第二轮")
    assert refused.returncode == 1 and "王强（工程管理科）" in refused.stderr and "分管领导" in refused.stderr
    assert rectify("ledger", "import", str(tmp_path / "台账.xlsx"), "--round", "第二轮",
                   "--allow-role-changes").returncode == 0


def _bomb_pdf(unpacked_mib: int = 300) -> bytes:
    """An unsigned PDF whose one stream unpacks to `unpacked_mib` MiB of zeros (about 0.3 MB on disk)."""
    import zlib

    stream = zlib.compress(b"\0" * (unpacked_mib * 1024 * 1024), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    body, offsets = b"%PDF-1.7\n", []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_verifying_a_crafted_pdf_costs_a_bounded_child_not_the_worker(engine):
    import tracemalloc

    from engine.access.records import verify_upload

    data = _bomb_pdf()
    assert len(data) < 1_000_000
    tracemalloc.start()
    try:
        report = verify_upload(engine, data)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert not report["ok"] and peak < 50
    assert any(not c["ok"] and c["name"] == "数字签名" for c in report["checks"])


# --- Tampering by someone who can write the database (triggers dropped) but lacks the audit key ---

def _closed(engine, item) -> int:
    from helpers import close_immediate_item

    close_immediate_item(engine, item, returns=["补充银行回单"])
    return item


def _problems(engine, checkpoints=()) -> list[str]:
    from engine.integrity import verify_history

    report = verify_history(engine, list(checkpoints))
    assert report.ok == (not report.problems)
    return report.problems


def test_an_untouched_history_verifies(engine, item):
    _closed(engine, item)
    assert _problems(engine) == []


def test_an_edited_opinion_is_caught_even_with_its_digests_recomputed(engine, item):

    from engine.store.models import Signature
    from engine.work.signoff import signature_digest

    _closed(engine, item)
    without_triggers(engine, "signatures", "UPDATE signatures SET opinion = '同意' WHERE seq = 1")
    assert any("签字链" in p for p in _problems(engine))
    # The tamperer recomputes every digest of the chain with the published rule…
    with engine.db.reading() as session:
        rows = session.execute(select(Signature).order_by(Signature.seq)).scalars().all()
        prev, fixes = "0" * 64, []
        for row in rows:
            row.prev_digest = prev
            row.digest = signature_digest(row)
            fixes.append((row.id, row.prev_digest, row.digest))
            prev = row.digest
        session.expunge_all()
    without_triggers(engine, "signatures", *[("UPDATE signatures SET prev_digest = :p, digest = :d WHERE id = :i",
                                              {"p": prev_digest, "d": digest, "i": row_id})
                                             for row_id, prev_digest, digest in fixes])
    problems = _problems(engine)
    assert problems and "签字记录" in problems[0] and "与封存时不同" in problems[0]  # …but not the seals


def test_a_rewritten_completed_by_is_caught(engine, item):
    from helpers import without_triggers

    _closed(engine, item)
    without_triggers(engine, "task_records",
                     "UPDATE task_records SET completed_by = (SELECT id FROM users WHERE name = '王强') "
                     "WHERE bpmn_id = 'fix_task'")
    problems = _problems(engine)
    assert problems and "办理记录" in problems[0] and "已被改动" in problems[0]


def test_deleting_the_last_audit_rows_is_caught(engine, item):
    from helpers import without_triggers

    _closed(engine, item)
    without_triggers(engine, "audit_log", "DELETE FROM audit_log WHERE id > (SELECT MAX(id) - 5 FROM audit_log)")
    # …and the head set back to match the new last row, as a careful tamperer would
    with engine.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_head SET count = (SELECT MAX(id) FROM audit_log), "
                             "last_hash = (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1)")
    problems = _problems(engine)
    assert problems and "审计日志" in problems[0]


def test_a_middle_row_changed_and_the_rest_rehashed_is_caught(engine, item):

    from engine.canonical import digest_of
    from engine.store.models import AuditEntry

    _closed(engine, item)
    with engine.db.reading() as session:
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        middle = entries[len(entries) // 2].id
        prev, updates = "0" * 64, []
        for entry in entries:
            actor = "某人" if entry.id == middle else entry.actor
            new = digest_of({"prev": prev, "id": entry.id, "at": entry.at, "actor": actor, "action": entry.action,
                             "object_type": entry.object_type, "object_id": entry.object_id, "details": entry.details})
            updates.append((entry.id, actor, prev, new))
            prev = new
        session.expunge_all()
    # (hashes are unique: clear them first, then write the new chain)
    without_triggers(engine, "audit_log", "UPDATE audit_log SET hash = 'x' || CAST(id AS VARCHAR(20))", *[
        ("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE id = :i",
         {"a": actor, "p": prev_hash, "h": new, "i": entry_id}) for entry_id, actor, prev_hash, new in updates])
    with engine.db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE audit_head SET last_hash = '{prev}'")
    problems = _problems(engine)
    assert problems and "审计日志" in problems[0] and "篡改" in problems[0]


def test_a_rollback_to_an_earlier_consistent_state_is_caught_by_a_kept_checkpoint(engine, item, tmp_path):
    import shutil

    from engine.closure import signing
    from engine.integrity import checkpoint

    if not engine.db.is_sqlite:
        return  # a file copy is the rollback here; on PostgreSQL it would be a dump and restore
    signing.init_dev_certificate(engine, "市政工程管理处")
    path = Path(engine.settings.database_url.split("///", 1)[1])
    engine.db.dispose()
    shutil.copy(path, tmp_path / "earlier.db")  # a copy taken now…
    _closed(engine, item)
    kept = checkpoint(engine)  # …the auditor keeps a checkpoint after the closing…
    assert _problems(engine, [kept]) == []
    engine.db.dispose()
    shutil.copy(tmp_path / "earlier.db", path)  # …and the database is put back to the copy
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert _problems(engine) == []  # consistent in itself…
    problems = _problems(engine, [kept])
    assert problems and "检查点" in problems[0] and "回退" in problems[0]  # …but not with what was kept


def test_a_forged_checkpoint_is_refused(engine, item):
    from engine.closure import signing
    from engine.integrity import checkpoint

    signing.init_dev_certificate(engine, "市政工程管理处")
    kept = checkpoint(engine)
    kept["rows"] = kept["rows"] + 1
    [problem] = _problems(engine, [kept])
    assert "签名不符" in problem


# --- Real processes at once ---

def _env(engine) -> dict:
    import os

    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
            "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path), "PYTHONPATH": str(root)}


COMPLETER = """
import sys, time
from engine import Engine, Settings
from engine.errors import Conflict
from engine.people.directory import user_id_of
from engine.work.completion import complete_task
from engine.work.evidence import Upload
engine = Engine(Settings.from_env())
officer = user_id_of(engine, "张伟")
evidence = (Upload("回单.pdf", b"%PDF-1.4 evidence"),)
import os, pathlib
gate = pathlib.Path(sys.argv[2])
(gate / str(os.getpid())).touch()
while len(list(gate.iterdir())) < int(sys.argv[3]):
    time.sleep(0.01)  # everyone loaded and connected: start together
try:
    complete_task(engine, sys.argv[1], {"measures": "m", "result": "r", "completed_on": "2026-11-20"}, officer,
                  None, evidence)
    print("won")
except Conflict:
    print("conflict")
"""


def test_twenty_processes_completing_one_task_one_wins(engine, item, tmp_path):
    import subprocess
    import sys

    from helpers import task_id

    root, gate = Path(__file__).resolve().parents[2], tmp_path / "gate"
    gate.mkdir()
    task = task_id(engine, item, "fix_task")
    workers = [subprocess.Popen([sys.executable, "-c", COMPLETER, task, str(gate), "20"], env=_env(engine), cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(20)]
    outcomes = [w.communicate(timeout=180) for w in workers]
    answers = sorted(out.strip() for out, _ in outcomes)
    assert answers == ["conflict"] * 19 + ["won"], [err[-300:] for _, err in outcomes if err]
    with engine.db.reading() as session:
        from engine.store.models import TaskRecord

        assert session.execute(select(func.count(TaskRecord.id)).where(TaskRecord.task_id == task)).scalar_one() == 1


TICKER = """
import sys, time
from datetime import datetime
from engine import Engine, Settings
from engine.process.timers import tick
engine = Engine(Settings.from_env())
import os, pathlib
gate = pathlib.Path(sys.argv[2])
(gate / str(os.getpid())).touch()
while len(list(gate.iterdir())) < 3:
    time.sleep(0.01)
report = tick(engine, datetime.fromisoformat(sys.argv[1]))
print(report.timers_fired, report.skipped, report.conflicts)
"""


def test_three_tick_workers_fire_every_escalation_exactly_once(engine, item, tmp_path):
    import subprocess
    import sys

    from engine.store.models import InboxTask

    for n in range(2, 501):  # 500 items, each with an escalation timer due (the fixture's is the first)
        new_item(engine, IMMEDIATE, number=str(n))
    moment = datetime.combine(engine.clock.now().date() + timedelta(days=120), time(9), ZoneInfo(engine.settings.timezone))
    root, gate = Path(__file__).resolve().parents[2], tmp_path / "gate"
    gate.mkdir()
    workers = [subprocess.Popen([sys.executable, "-c", TICKER, moment.isoformat(), str(gate)], env=_env(engine),
                                cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [w.communicate(timeout=600) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-500:] for _, err in outcomes]
    with engine.db.reading() as session:
        accountability = session.execute(select(func.count(InboxTask.id)).where(
            InboxTask.bpmn_id == "accountability_task")).scalar_one()
        fired = session.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "timer.fire")).scalar_one()
    assert accountability == 500 and fired == 500  # every 问责 task once, every firing once
    # and nothing is left for a fourth tick
    assert tick(engine, moment).timers_fired == 0
