"""The engine object: settings, database, clock, process runtime and file store, built once and
handed to every engine function (the library's dependency container)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from engine.clock import CLOCK, Clock
from engine.closure.records import RecordOnClose
from engine.config import Settings
from engine.events import DocumentQueued, ImportQueued, ItemClosed

# Tables defined beside their logic, registered here so that importing the Engine knows the whole
# schema (migrations, backups and the schema test rely on it).
from engine.ledger import activities as _activities  # noqa: F401
from engine.ledger import changes as _changes  # noqa: F401  (also applies approved changes)
from engine.ledger import lookbacks as _lookbacks  # noqa: F401
from engine.ledger import rewind as _rewind  # noqa: F401  (also applies approved rewinds)
from engine.ledger import supervision as _supervision  # noqa: F401
from engine.ledger import talks as _talks  # noqa: F401
from engine.ledger.lights import LightRules
from engine.ledger.xlsx.jobs import RunImport
from engine.notify.centre import write_notifications
from engine.outbox import Outbox
from engine.people import keys as _keys  # noqa: F401
from engine.people import sessions as _sessions  # noqa: F401
from engine.people import throttle as _throttle  # noqa: F401
from engine.process import designs as _designs  # noqa: F401
from engine.process import form_versions as _form_versions  # noqa: F401
from engine.process import migration as _migration  # noqa: F401
from engine.process.bpmn import ProcessRuntime
from engine.reports.document_jobs import RenderDocument  # (also registers the document_jobs table)
from engine.store import audit
from engine.store import blobs as _blobs  # noqa: F401  (the stored_files table)
from engine.store.backends import make_store
from engine.store.db import Database
from engine.store.keys import audit_key
from engine.work import superseded as _superseded  # noqa: F401
from engine.work.evidence import EvidenceStore


class Engine:
    def __init__(self, settings: Settings, clock: Clock = CLOCK):
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.database_url)
        self.db.audit_key = audit_key(settings.instance_path)
        self.lights = LightRules(settings.timezone)
        # Stored files by SHA-256, on disk, in the database or in S3 (settings.file_store).
        self.evidence = EvidenceStore(
            make_store(settings, self.db, "evidence"), settings.max_evidence_bytes, settings.evidence_extensions,
        )
        # Signed closure records (销号单); the signing key is under instance/signing.
        self.closure_files = make_store(settings, self.db, "documents")
        # Ledgers uploaded for an import preview, kept until confirmed (pruned by `rectify files prune`).
        self.uploads = make_store(settings, self.db, "uploads")
        # Functions BPMN scripts may call; deploying BPMN is a trusted act (scripts run unsandboxed).
        self.processes = ProcessRuntime({"escalation_time": self.escalation_time, "in_days": self.in_days})
        # Domain events go to the outbox with the change that raised them; handlers run after commit.
        self.outbox = Outbox(self, {ItemClosed.name: RecordOnClose(), ImportQueued.name: RunImport(),
                                    DocumentQueued.name: RenderDocument()}, settings.outbox_dispatch)
        # Before the outbox takes the events: the notifications they cause, in the same commit.
        self.db.before_commit.append(lambda session: write_notifications(session, self.clock.now(), self.settings))
        self.db.before_commit.append(self.outbox.write_recorded)
        self.db.before_commit.append(audit.seal_pending)  # last: it may append an audit entry
        self.db.after_commit.append(self.outbox.committed)

    def escalation_time(self, deadline_iso: str, red_days: int | None = None) -> str:
        """ISO moment at which an item with this deadline turns 红 (used by BPMN timers): more than
        `red_days` (the round's, given to every path as `red_days`; default 30) past the deadline."""
        rules = self.lights if red_days is None else self.lights.with_thresholds(
            replace(self.lights.thresholds, red_days=int(red_days)))
        return rules.escalation_moment(date.fromisoformat(str(deadline_iso)[:10])).isoformat()

    def in_days(self, days: int) -> str:
        """The body's date `days` from today (for a step's own period, e.g. 问责处理's)."""
        return (self.lights.local_date(self.clock.now()) + timedelta(days=int(days))).isoformat()

    def close(self) -> None:
        self.outbox.wait_idle()
        self.db.dispose()
