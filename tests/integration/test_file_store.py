"""Stored files follow the database: a refused action writes none, and `prune_files` removes what
no row refers to (a commit that failed, an abandoned ledger upload) once it is past the grace period.
On SQLite the files are on disk, on PostgreSQL in the database (the default of each); the S3 store
runs the same contract in test_s3_store.py."""
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from helpers import FIX, do, evidence
from sqlalchemy import select, update

from engine import Engine
from engine.access.items import evidence_for
from engine.clock import CLOCK
from engine.doctor import examine
from engine.errors import InvalidInput, NotFound
from engine.integrity import verify_history
from engine.people.directory import user_id_of
from engine.store.audit import chain_status
from engine.store.blobs import StoredBlob
from engine.store.file_migrate import migrate_files
from engine.store.file_prune import prune_files
from engine.store.filestore import DiskStore
from engine.store.models import AuditEntry

RECEIPT = b"%PDF-1.4 bank receipt"


def stored(store, content: bytes) -> bool:
    return store.exists(hashlib.sha256(content).hexdigest())


def age(engine, store, digest: str, when: datetime) -> None:
    """Make a stored file look last used at `when` (as if stored days ago)."""
    if store.kind == "disk":
        os.utime(store.root / digest[:2] / digest, (when.timestamp(), when.timestamp()))
    else:
        with engine.db.transaction() as session:
            session.execute(update(StoredBlob).where(StoredBlob.namespace == store.namespace,
                                                     StoredBlob.sha256 == digest).values(last_used_at=when))


@pytest.fixture
def cli_on():
    """`rectify …` in a process of its own on an engine's database and instance folder."""
    def run(engine, *args):
        env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
               "RECTIFY_INSTANCE_PATH": str(engine.settings.instance_path)}
        env.pop("RECTIFY_FILE_STORE", None)
        return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], env=env,
                              capture_output=True, text=True, timeout=120)
    return run


def later(hours: float):
    return CLOCK.pinned(datetime.now(timezone.utc) + timedelta(hours=hours))


def test_a_refused_form_leaves_no_file_and_an_accepted_one_stores_it(engine, item):
    with pytest.raises(InvalidInput):
        do(engine, item, "fix_task", "张伟", {"measures": "已追回"}, files=evidence("回单.pdf", RECEIPT))
    assert not stored(engine.evidence.files, RECEIPT)
    do(engine, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    assert stored(engine.evidence.files, RECEIPT)


def test_prune_removes_only_old_files_no_row_refers_to(engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    # What a failed commit and an abandoned import preview leave behind.
    engine.evidence.files.put(b"%PDF-1.4 orphan evidence")
    engine.closure_files.put(b"%PDF-1.4 orphan record")
    engine.uploads.put(b"PK ledger never confirmed")

    with later(2):  # within the 24 h grace: an action in progress may be about to commit them
        report = prune_files(engine)
    assert (report["files"], report["kept_within_grace"]) == (0, 3)

    with later(25):
        dry = prune_files(engine, dry_run=True)
        assert dry["files"] == 3 and stored(engine.evidence.files, b"%PDF-1.4 orphan evidence")
        report = prune_files(engine, actor="运维")
    assert {k: v["files"] for k, v in report["removed"].items()} == {"evidence": 1, "documents": 1, "uploads": 1}
    assert not stored(engine.evidence.files, b"%PDF-1.4 orphan evidence")
    assert not stored(engine.closure_files, b"%PDF-1.4 orphan record")
    assert not stored(engine.uploads, b"PK ledger never confirmed")
    assert stored(engine.evidence.files, RECEIPT)  # the completed task's evidence stays
    assert engine.evidence.read(hashlib.sha256(RECEIPT).hexdigest()) == RECEIPT
    with engine.db.reading() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "files.prune")).scalar_one()
        assert (entry.actor, entry.details["removed"]) == ("运维", {"evidence": 1, "documents": 1, "uploads": 1})
    assert chain_status(engine)["ok"]


def test_storing_existing_content_again_saves_it_from_pruning(engine, item):
    content = b"%PDF-1.4 uploaded twice"
    digest = engine.evidence.files.put(content)
    age(engine, engine.evidence.files, digest, datetime.now(timezone.utc) - timedelta(days=3))
    engine.evidence.files.put(content)  # a new action about to refer to the same bytes
    with later(1):
        assert prune_files(engine)["files"] == 0
    assert stored(engine.evidence.files, content)


def test_a_grace_period_under_an_hour_is_refused(engine):
    with pytest.raises(InvalidInput, match="宽限期"):
        prune_files(engine, timedelta(minutes=5))


# --- the store contract, on each backend ------------------------------------------------------------

def test_the_default_store_is_the_database_on_postgresql_and_the_disk_on_sqlite(engine):
    kind = "disk" if engine.db.is_sqlite else "database"
    assert {s.kind for s in (engine.evidence.files, engine.closure_files, engine.uploads)} == {kind}


@pytest.fixture(params=["disk", "database"])
def backend(request, engine):
    """The engine's database with its files on the disk or in the database (on SQLite and PostgreSQL)."""
    other = Engine(replace(engine.settings, file_store=request.param))
    yield other
    other.close()


def corrupt(engine, store, digest: str) -> None:
    if store.kind == "disk":
        (store.root / digest[:2] / digest).write_bytes(b"changed behind our back")
    else:
        with engine.db.transaction() as session:
            session.execute(update(StoredBlob).where(StoredBlob.namespace == store.namespace,
                                                     StoredBlob.sha256 == digest).values(content=b"changed"))


def test_every_store_keeps_the_same_contract(backend):
    store = backend.closure_files
    digest = store.put(b"%PDF-1.4 record")
    assert digest == hashlib.sha256(b"%PDF-1.4 record").hexdigest()
    assert store.put(b"%PDF-1.4 record") == digest  # once per content
    assert store.read(digest, verify=True) == b"%PDF-1.4 record" and store.exists(digest)
    [entry] = list(store.entries())
    assert (entry.name, entry.size) == (digest, len(b"%PDF-1.4 record"))
    assert abs((entry.used_at - datetime.now(timezone.utc)).total_seconds()) < 60
    assert list(backend.uploads.entries()) == []  # namespaces are apart
    with pytest.raises(NotFound, match="不在文件库中"):
        backend.uploads.read(digest)
    assert not store.delete(digest, unused_since=datetime.now(timezone.utc) - timedelta(hours=1))  # used since
    corrupt(backend, store, digest)
    assert store.read(digest) != b"%PDF-1.4 record"
    with pytest.raises(NotFound, match="已损坏"):
        store.read(digest, verify=True)
    assert store.delete(digest) and not store.exists(digest) and not store.delete(digest)


def test_in_the_database_the_bytes_commit_with_the_rows_that_name_them(engine, item):
    db_engine = Engine(replace(engine.settings, file_store="database"))
    with pytest.raises(RuntimeError), db_engine.db.transaction():
        db_engine.evidence.files.put(b"%PDF-1.4 never committed")
        raise RuntimeError("the action fails after its files were written")
    assert not stored(db_engine.evidence.files, b"%PDF-1.4 never committed")  # nothing for pruning to find
    do(db_engine, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    assert stored(db_engine.evidence.files, RECEIPT) and not stored(DiskStore(engine.settings.instance_path
                                                                              / "evidence"), RECEIPT)
    with db_engine.db.reading():  # a ledger kept for the confirmation of an import preview (a reading unit)
        digest = db_engine.uploads.put(b"PK ledger")
    assert db_engine.uploads.read(digest) == b"PK ledger"
    db_engine.close()


def test_two_machines_storing_the_same_content_at_once_never_collide(engine):
    machines = [Engine(replace(engine.settings, file_store="database")) for _ in range(2)]
    content = b"%PDF-1.4 uploaded on both machines at once"
    with ThreadPoolExecutor(4) as pool:
        digests = list(pool.map(lambda n: machines[n % 2].evidence.files.put(content), range(8)))
    assert set(digests) == {hashlib.sha256(content).hexdigest()}
    assert [e.name for e in machines[1].evidence.files.entries()] == digests[:1]
    for machine in machines:
        machine.close()


def test_files_move_from_the_instance_folder_to_the_database_once(engine, item, cli_on):
    disk = Engine(replace(engine.settings, file_store="disk"))
    do(disk, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    disk.uploads.put(b"PK ledger awaiting its confirmation")
    damaged = disk.closure_files.put(b"%PDF-1.4 damaged on disk")
    corrupt(disk, disk.closure_files, damaged)

    first = cli_on(engine, "files", "migrate", "--to", "database", "--json")
    assert first.returncode == 1  # the damaged file is named and not copied
    report = json.loads(first.stdout)
    assert (report["copied"], report["present"], report["damaged"]) == (2, 0, 1)
    again = json.loads(cli_on(engine, "files", "migrate", "--to", "database", "--json").stdout)
    assert (again["copied"], again["present"]) == (0, 2)  # idempotent

    moved = Engine(replace(engine.settings, file_store="database"))
    assert moved.evidence.read(hashlib.sha256(RECEIPT).hexdigest()) == RECEIPT
    assert examine(moved).ok
    with moved.db.reading() as session:
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "files.migrate")).scalar_one()
    disk.close()
    moved.close()


def test_an_upgraded_deployment_still_reads_the_files_it_kept_on_disk(engine, item):
    """Upgrading to the shared store (the default on PostgreSQL) must not lose the files an earlier version
    kept in the instance folder: they are read from there, new ones go to the shared store, and doctor
    names what `files migrate` still has to copy for the other machines."""
    before = Engine(replace(engine.settings, file_store="disk"))
    do(before, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    before.close()
    upgraded = Engine(replace(engine.settings, file_store="database"))
    old = hashlib.sha256(RECEIPT).hexdigest()
    assert upgraded.evidence.files.read(old, verify=True) == RECEIPT
    assert old in {entry.name for entry in upgraded.evidence.files.entries()}  # backups take it along
    [finding] = examine(upgraded).findings
    assert finding.subject == "佐证材料 1 个" and "files migrate --to database" in finding.problem

    new = upgraded.evidence.files.put(b"%PDF-1.4 uploaded after the upgrade")
    with upgraded.db.reading() as session:
        assert session.get(StoredBlob, ("evidence", new)) is not None
    assert not (upgraded.evidence.files.disk.root / new[:2] / new).exists()

    assert migrate_files(upgraded, "database")["copied"] == 1
    assert examine(upgraded).ok
    upgraded.close()


def test_evidence_changed_in_the_store_is_refused_not_handed_out(backend, item):
    do(backend, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    digest = hashlib.sha256(RECEIPT).hexdigest()
    officer = user_id_of(backend, "张伟")
    assert evidence_for(backend, item, digest, officer) == ("回单.pdf", RECEIPT)
    corrupt(backend, backend.evidence.files, digest)
    with pytest.raises(NotFound, match="已损坏"):
        evidence_for(backend, item, digest, officer)


def test_audit_verify_with_files_rehashes_every_file_a_row_names(engine, item, cli_on):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    whole = json.loads(cli_on(engine, "audit", "verify", "--files", "--json").stdout)
    assert whole["ok"] and whole["checked"]["files"] == 1
    corrupt(engine, engine.evidence.files, hashlib.sha256(RECEIPT).hexdigest())
    assert verify_history(engine).ok  # the rows alone still agree with each other
    damaged = cli_on(engine, "audit", "verify", "--files", "--json")
    [problem] = json.loads(damaged.stdout)["problems"]
    assert damaged.returncode == 1 and f"问题 {item} 的佐证材料" in problem and "已损坏" in problem


def test_doctor_names_a_referenced_file_missing_from_the_store(backend, item):
    do(backend, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    assert examine(backend).ok and examine(backend).checked["files"] == 1
    backend.evidence.files.delete(hashlib.sha256(RECEIPT).hexdigest())
    [finding] = examine(backend).findings
    assert finding.check == "files" and "不在文件库" in finding.problem and backend.evidence.files.kind in finding.problem
