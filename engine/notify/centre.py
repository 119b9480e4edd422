"""站内通知 (the notification centre): who is told what, written with the change that caused it.

The domain events a step records (engine/events.py) become notifications in the same transaction,
just before it commits — one insert for all of them — so a notification exists exactly when its
change committed, once. Who is told:
  TaskAssigned      the holder (a pool task of a body-wide role: every active holder), with the due date;
                    when the same step also returned work (TaskReturned), it is told as 退回 with
                    the signer's opinion instead
  EscalationRaised  the item's 责任人 and 分管领导: the item went to 纪检监察 for 问责
  ItemClosed        the item's 责任人 and 分管领导
  ItemReopened      the item's 责任人 and 分管领导, with the new deadline (a 回头看 found a rebound)
  DeadlineChanged   the item's 责任人 and 分管领导
  ChangeDecided     whoever asked for the change
(a 督办回复 task is told as 督办, with its reply deadline)
Nobody is told of their own act, and a disabled person is told nothing."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import NotFound
from engine.events import (
    ChangeDecided,
    DeadlineChanged,
    EscalationRaised,
    ItemClosed,
    ItemReopened,
    TaskAssigned,
    TaskReturned,
    closed_tasks,
    known_active,
    pending,
)
from engine.notify.delivery import queue_for_notifications
from engine.store import closing_writes
from engine.store.models import BODY_WIDE_ROLES, Base, InboxTask, Item, RoleGrant, User

if TYPE_CHECKING:
    from engine.core import Engine

ASSIGNED, RETURNED, ESCALATED, CLOSED, REOPENED, DEADLINE, DECIDED, SUPERVISED = (
    "待办", "退回", "问责", "销号", "重新打开", "时限调整", "变更审批", "督办")
SUPERVISION_STEP = "督办回复"  # the reply step of workflows/supervision.bpmn
PAGE = 50


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("items.id"))
    task_id: Mapped[Optional[str]] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[Optional[datetime]]


def _messages(events: list, returned: dict[int, TaskReturned], items: dict[int, Item],
              holders) -> list[tuple[int, str, int, str | None, str]]:
    """(user id, kind, item id, task id, text) for each event, before filtering."""
    out = []
    for e in events:
        item = items.get(e.item_id)
        if item is None:
            continue
        about = f"第{item.number}号「{item.title}」"
        owners = (item.person_id, item.leader_id)
        if isinstance(e, TaskAssigned):
            back = returned.get(e.item_id)
            kind = RETURNED if back else SUPERVISED if e.step == SUPERVISION_STEP else ASSIGNED
            text = (f"{about}被退回，请重新办理「{e.step}」。退回意见：{back.opinion or '（无）'}" if back
                    else f"{about}收到督办单，请于 {e.due_date} 前回复。" if kind == SUPERVISED
                    else f"{about}有新的待办「{e.step}」" + (f"，期限 {e.due_date}" if e.due_date else "") + "。")
            for user_id in ([e.assignee_id] if e.assignee_id else holders(e.role) if e.role in BODY_WIDE_ROLES else []):
                out.append((user_id, kind, item.id, e.task_id, text))
        elif isinstance(e, EscalationRaised):
            out += [(u, ESCALATED, item.id, None, f"{about}已严重超期，转纪检监察问责处理。") for u in owners]
        elif isinstance(e, ItemClosed):
            out += [(u, CLOSED, item.id, None, f"{about}已销号。") for u in owners if u != e.actor_id]
        elif isinstance(e, ItemReopened):
            out += [(u, REOPENED, item.id, None, f"{about}经回头看确认反弹，已重新打开，新的整改时限为 {e.deadline}。")
                    for u in owners]
        elif isinstance(e, DeadlineChanged):
            out += [(u, DEADLINE, item.id, None, f"{about}的整改时限由 {e.old} 调整为 {e.new}。") for u in owners]
        elif isinstance(e, ChangeDecided):
            opinion = f"意见：{e.opinion}" if e.opinion else ""
            out.append((e.requester_id, DECIDED, item.id, None, f"您对{about}的{e.kind}申请{e.status}。{opinion}"))
    return out


INSERT = Notification.__table__.insert()  # built once (engine/store/closing_writes.py)


def write_notifications(session: Session, now: datetime, settings=None, actor_id: int | None = None) -> int:
    """Before commit: the notifications of the events recorded on this unit of work (one insert)."""
    recorded = pending(session)
    returned = {e.item_id: e for e in recorded if isinstance(e, TaskReturned)}
    events = [e for e in recorded if isinstance(e, (TaskAssigned, EscalationRaised, ItemClosed, ItemReopened,
                                                    DeadlineChanged, ChangeDecided))]
    if not events:
        return 0
    wanted = {e.item_id for e in events}
    items = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, Item) and obj.id in wanted}
    if wanted - items.keys():  # the step's own item is in the session already: no query for it
        items.update((i.id, i) for i in session.execute(select(Item).where(Item.id.in_(wanted - items.keys()))).scalars())
    pools: dict[str, list[int]] = {}

    def holders(role: str) -> list[int]:
        if role not in pools:
            pools[role] = list(session.execute(select(User.id).join(RoleGrant).where(
                RoleGrant.role == role, User.active.is_(True))).scalars())
        return pools[role]

    # A task done in the same unit of work (a 变更申请 asked and submitted at once) is nobody's 待办.
    events = [e for e in events if not isinstance(e, TaskAssigned) or e.task_id not in closed_tasks(session)]
    messages = _messages(events, returned, items, holders)
    actor = next((e.signer_id for e in returned.values()), actor_id)
    people = {u for u, *_ in messages}
    active = people & known_active(session)
    if people - active:
        active |= set(session.execute(select(User.id).where(User.id.in_(people - active), User.active.is_(True))).scalars())
    seen, rows = set(), []
    for user_id, kind, item_id, task_id, text in messages:
        if user_id in active and user_id != actor and (user_id, kind, item_id, task_id) not in seen:
            seen.add((user_id, kind, item_id, task_id))
            rows.append({"user_id": user_id, "kind": kind, "item_id": item_id, "task_id": task_id, "text": text,
                         "created_at": now, "read_at": None})
    if rows:
        closing_writes.hold(session, INSERT, rows)
        if settings is not None:  # their e-mails and webhook messages, in the same commit
            queue_for_notifications(session, settings, rows, now)
    return len(rows)


def unread_count(session: Session, user_id: int) -> int:
    return session.execute(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def view(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "item_id": n.item_id, "task_id": n.task_id, "text": n.text,
            "created_at": n.created_at.isoformat(), "read": n.read_at is not None}


def notifications_of(engine: Engine, user_id: int, unread_only: bool = False, limit: int = PAGE) -> dict:
    with engine.db.reading() as session:
        query = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars().all()
        # 去办理 only where the task is still waiting: one done since leads to its item (mark_read)
        tasks = {n.task_id for n in rows if n.task_id}
        waiting = select(InboxTask.id).where(InboxTask.id.in_(tasks))
        open_tasks = set(session.execute(waiting).scalars() if tasks else ())
        return {"notifications": [view(n) | {"task_open": n.task_id in open_tasks} for n in rows],
                "unread": unread_count(session, user_id)}


def mark_read(engine: Engine, user_id: int, notification_id: int | None = None) -> dict | None:
    """Mark one notification (or, with None, all) of the user read; returns the one marked."""
    with engine.db.transaction() as session:
        now = engine.clock.now()
        if notification_id is None:
            session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                            .values(read_at=now))
            return None
        row = session.get(Notification, notification_id)
        if row is None or row.user_id != user_id:
            raise NotFound("通知不存在")
        if row.read_at is None:
            row.read_at = now
        task_open = bool(row.task_id) and session.get(InboxTask, row.task_id) is not None
        return view(row) | {"task_open": task_open}
