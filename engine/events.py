"""Domain events: what an engine step did that something else may need to act on after it commits.

An engine step records events on its unit of work (`record(session, ItemClosed(...))`). They are
written to the `outbox` table in the same transaction as the change itself, so an event exists if
and only if its change committed; their handlers (engine/outbox.py) run after the commit. A slow
side effect (rendering and signing a 销号单, sending a notification) therefore never holds the
write lock, and a crash between the commit and the handler loses nothing: the row waits for
`rectify outbox run` (which `rectify tick` also runs).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import ClassVar

from sqlalchemy.orm import Session

RECORDED = "rectify.events"  # key of the events recorded on a session, in session.info


@dataclass(frozen=True)
class DomainEvent:
    """Base: an event concerns one item (0 when it concerns none); its fields are plain JSON values."""

    item_id: int
    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    def payload(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TaskAssigned(DomainEvent):
    """A human task became ready: to one person (`assignee_id`) or to a role's pool (None)."""

    task_id: str
    step: str
    role: str
    assignee_id: int | None
    due_date: str | None


@dataclass(frozen=True)
class TaskReturned(DomainEvent):
    """A sign-off gate decided 退回: the work goes back with the signer's opinion."""

    task_id: str
    step: str
    signer_id: int
    opinion: str


@dataclass(frozen=True)
class ItemClosed(DomainEvent):
    """The item reached 已销号. `actor_id` signed the closing step (None when a timer closed it)."""

    actor_id: int | None


@dataclass(frozen=True)
class ItemReopened(DomainEvent):
    """A closed item opened again (a 回头看 found a rebound), with its new deadline."""

    deadline: str


@dataclass(frozen=True)
class DeadlineChanged(DomainEvent):
    """The item's deadline (整改时限) moved; the lights and the 问责 moment move with it."""

    old: str
    new: str


@dataclass(frozen=True)
class EscalationRaised(DomainEvent):
    """A task for 纪检监察 appeared: the item went far enough past its deadline for 问责."""

    task_id: str
    step: str


@dataclass(frozen=True)
class ChangeDecided(DomainEvent):
    """A 变更申请 was approved or returned (`status` 已批准 / 已退回)."""

    request_id: int
    kind: str
    status: str
    requester_id: int
    opinion: str


@dataclass(frozen=True)
class ImportQueued(DomainEvent):
    """整改办 confirmed a ledger import; it runs after commit (engine/ledger/xlsx/jobs.py). Not about
    one item: `item_id` is 0."""

    job_id: int


@dataclass(frozen=True)
class DocumentQueued(DomainEvent):
    """Someone asked for a long document (the 整改情况报告 PDF of a large round); it is laid out after
    commit (engine/reports/document_jobs.py). Not about one item: `item_id` is 0."""

    job_id: int


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls for cls in (TaskAssigned, TaskReturned, ItemClosed, ItemReopened, DeadlineChanged, EscalationRaised,
                              ChangeDecided, ImportQueued, DocumentQueued)
}


def record(session: Session, event: DomainEvent) -> None:
    """Record `event` on the unit of work; it is written to the outbox when the session commits."""
    session.info.setdefault(RECORDED, []).append(event)


def pending(session: Session) -> list[DomainEvent]:
    """The events recorded on this session so far, left in place (for a hook that runs before the outbox's)."""
    return list(session.info.get(RECORDED, []))


def recorded(session: Session) -> list[DomainEvent]:
    """The events recorded on this session and not yet written (taken: a second call finds none)."""
    return session.info.pop(RECORDED, [])


def decode(name: str, payload: dict) -> DomainEvent:
    cls = EVENT_TYPES[name]
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in payload.items() if k in known})


CLOSED_TASKS = "rectify.closed_tasks"  # session.info: inbox rows this unit of work deleted


def note_closed_tasks(session: Session, task_ids) -> None:
    """Remember which open tasks this unit of work ended, so that hooks before its commit (the
    notification centre) know them without asking the database."""
    session.info.setdefault(CLOSED_TASKS, set()).update(task_ids)


def closed_tasks(session: Session) -> set[str]:
    return session.info.get(CLOSED_TASKS, set())


ACTIVE_PEOPLE = "rectify.active_people"  # session.info: people this unit of work read as active


def note_active(session: Session, user_ids) -> None:
    """Remember people read as active in this unit of work (the assignee just chosen, the item's own people),
    so that its notifications need not ask again."""
    session.info.setdefault(ACTIVE_PEOPLE, set()).update(user_ids)


def known_active(session: Session) -> set[int]:
    return session.info.get(ACTIVE_PEOPLE, set())

