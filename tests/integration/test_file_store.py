"""Files on disk follow the database: a refused action writes none, and `prune_files` removes what
no row refers to (a commit that failed, an abandoned ledger upload) once it is past the grace period."""
import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest
from helpers import FIX, do, evidence
from sqlalchemy import select

from engine.clock import CLOCK
from engine.errors import InvalidInput
from engine.store.audit import chain_status
from engine.store.file_prune import prune_files
from engine.store.models import AuditEntry

RECEIPT = b"%PDF-1.4 bank receipt"


def stored(store, content: bytes) -> bool:
    return store.path_of(hashlib.sha256(content).hexdigest()).exists()


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
    old = (datetime.now(timezone.utc) - timedelta(days=3)).timestamp()
    os.utime(engine.evidence.files.path_of(digest), (old, old))
    engine.evidence.files.put(content)  # a new action about to refer to the same bytes
    with later(1):
        assert prune_files(engine)["files"] == 0
    assert stored(engine.evidence.files, content)


def test_a_grace_period_under_an_hour_is_refused(engine):
    with pytest.raises(InvalidInput, match="宽限期"):
        prune_files(engine, timedelta(minutes=5))
