"""Delivering notifications outside the product: e-mail (SMTP) and a body-wide webhook.

What to send is decided with the change that caused it: when a notification is written
(engine/notify/centre.py), its deliveries are written in the same commit — an immediate e-mail for
退回, 问责 and 督办 to a person who has an address and wants e-mail, a webhook message for every
notification when the body has a webhook and the person wants it. A daily digest per person (their
open tasks by light, the items they lead that are 黄 or 红) is written by `rectify notify run` once the
person's hour has come, at most one per person and day (a unique key).

Sending is `rectify notify run` (or `rectify worker`): due rows are claimed with a lease —
`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's write lock — so two runs at once never send the same
row; a failure is retried with back-off (1, 2, 4 … minutes) and after MAX_ATTEMPTS stays 失败 with its
error for the administrator (`/admin`, `rectify notify status`). Each send first renews its claim, and
skips a row whose claim lapsed and was taken by another run. A message is sent once; only a crash between
sending and recording it could send it again when its lease runs out."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import smtplib
import socket
import ssl
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Optional
from urllib.parse import unquote, urlsplit

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.store.models import Base, User

if TYPE_CHECKING:
    from engine.config import Settings
    from engine.core import Engine

PENDING, SENT, FAILED = "待发送", "已发送", "失败"
EMAIL, WEBHOOK = "email", "webhook"
IMMEDIATE_KINDS = frozenset({"退回", "问责", "督办"})
MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)
TIMEOUT = 15  # seconds, per SMTP session or webhook request


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("digest_key", name="uq_deliveries_digest_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict]
    digest_key: Mapped[Optional[str]] = mapped_column(String(60))  # "user:date" of a daily digest
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    claimed_until: Mapped[Optional[datetime]]
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    sent_at: Mapped[Optional[datetime]]
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime]


def channels_on(settings: Settings) -> set[str]:
    return {c for c, on in ((EMAIL, settings.smtp_url), (WEBHOOK, settings.webhook_url)) if on}


def queue_for_notifications(session: Session, settings: Settings, rows: list[dict], now: datetime) -> int:
    """The deliveries of freshly written notifications (same transaction): immediate mail, webhook."""
    on = channels_on(settings)
    if not on or not rows:
        return 0
    people = {u.id: u for u in session.execute(select(User).where(User.id.in_({r["user_id"] for r in rows}))).scalars()}
    out = []
    for row in rows:
        user = people[row["user_id"]]
        subject = f"【整改】{row['kind']}：{row['text'][:60]}"
        payload = {"event": "notification", "kind": row["kind"], "text": row["text"], "item_id": row["item_id"],
                   "task_id": row["task_id"], "user": {"id": user.id, "name": user.name, "login": user.login},
                   "at": now.isoformat()}
        if EMAIL in on and row["kind"] in IMMEDIATE_KINDS and user.email and user.notify_email:
            out.append(_row(user.id, EMAIL, subject, row["text"], payload | {"to": user.email}, now))
        if WEBHOOK in on and user.notify_webhook:
            out.append(_row(user.id, WEBHOOK, subject, row["text"], payload, now))
    if out:
        session.add_all(out)
    return len(out)


def _row(user_id: int, channel: str, subject: str, body: str, payload: dict, now: datetime,
         digest_key: str | None = None) -> Delivery:
    return Delivery(user_id=user_id, channel=channel, subject=subject[:300], body=body, payload=payload,
                    digest_key=digest_key, status=PENDING, attempts=0, available_at=now, created_at=now)


# --- sending ---------------------------------------------------------------------------------------------

@dataclass
class NotifyReport:
    digests: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"digests": self.digests, "sent": self.sent, "retried": self.retried, "failed": self.failed,
                "errors": self.errors}


def _worker_name() -> str:
    """This run: its machine and process, and a token (two runs may share a process, each on a thread)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(engine: Engine, now: datetime, worker: str, limit: int = 50) -> list[int]:
    """Due rows leased to this run (others skip them)."""
    with engine.db.transaction() as session:
        rows = session.execute(
            select(Delivery).where(Delivery.status == PENDING, Delivery.available_at <= now,
                                   or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
            .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)).scalars().all()
        for row in rows:
            row.claimed_until, row.claimed_by = now + LEASE, worker
        return [r.id for r in rows]


def send_due(engine: Engine, now: datetime, report: NotifyReport, limit: int = 1000) -> None:
    worker = _worker_name()
    while report.sent + report.retried + report.failed < limit:
        ids = claim(engine, now, worker)
        if not ids:
            return
        for delivery_id in ids:
            _send_one(engine, delivery_id, now, worker, report)


def _still_ours(engine: Engine, delivery_id: int, now: datetime, worker: str) -> tuple | None:
    """The message, if this run's claim on it still holds, the claim renewed for the send: a batch that took
    longer than its lease (a slow mail server) may have had its last rows claimed by another run, which
    sends them; this one must then not send them too."""
    with engine.db.transaction() as session:
        renewed = session.execute(
            update(Delivery).where(Delivery.id == delivery_id, Delivery.status == PENDING,
                                   Delivery.claimed_by == worker)
            .values(claimed_until=max(now, engine.clock.now()) + LEASE)
            .returning(Delivery.channel, Delivery.subject, Delivery.body, Delivery.payload)).first()
    return None if renewed is None else (renewed[0], renewed[1], renewed[2], dict(renewed[3]))


def _send_one(engine: Engine, delivery_id: int, now: datetime, worker: str, report: NotifyReport) -> None:
    message = _still_ours(engine, delivery_id, now, worker)
    if message is None:
        return
    try:
        (send_mail if message[0] == EMAIL else post_webhook)(engine.settings, *message[1:])
        error = None
    except Exception as exc:  # noqa: BLE001 — any failure of the far side is recorded and retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
    with engine.db.transaction() as session:
        row = session.get(Delivery, delivery_id)
        row.claimed_until, row.claimed_by = None, None
        if error is None:
            row.status, row.sent_at = SENT, now
            report.sent += 1
            return
        row.attempts += 1
        row.last_error = error
        if row.attempts >= MAX_ATTEMPTS:
            row.status = FAILED
            report.failed += 1
        else:
            row.available_at = now + timedelta(minutes=2 ** (row.attempts - 1))
            report.retried += 1
        report.errors.append({"id": delivery_id, "channel": row.channel, "error": error})


def send_mail(settings: Settings, subject: str, body: str, payload: dict) -> None:
    url = urlsplit(settings.smtp_url)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.mail_from, payload["to"]
    message.set_content(body)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(url.hostname, port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(url.hostname, port, timeout=TIMEOUT)
    with client:
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def signature(secret: str, body: bytes) -> str:
    """The X-Rectify-Signature header: sha256=<hex HMAC-SHA256 of the body under the shared secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(settings: Settings, subject: str, text: str, payload: dict) -> dict:
    """Our own JSON, or the message format of a 企业微信 / 钉钉 group robot."""
    if settings.webhook_format in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": f"{subject}\n{text}"}}
    return payload | {"subject": subject}


def post_webhook(settings: Settings, subject: str, text: str, payload: dict) -> None:
    body = json.dumps(webhook_body(settings, subject, text, payload), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if settings.webhook_secret:
        headers["X-Rectify-Signature"] = signature(settings.webhook_secret, body)
    request = urllib.request.Request(settings.webhook_url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 — the body's own URL
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}")


def delivery_status(engine: Engine) -> dict:
    """For the administrator: counts by status and the failing rows with their errors."""
    with engine.db.reading() as session:
        counts = dict(session.execute(select(Delivery.status, func.count(Delivery.id)).group_by(Delivery.status)).all())
        failing = session.execute(select(Delivery).where(Delivery.last_error.is_not(None), Delivery.status != SENT)
                                  .order_by(Delivery.id.desc()).limit(20)).scalars().all()
        return {"counts": {s: counts.get(s, 0) for s in (PENDING, SENT, FAILED)},
                "failing": [{"id": d.id, "channel": d.channel, "subject": d.subject, "status": d.status,
                             "attempts": d.attempts, "error": d.last_error} for d in failing]}


def retry_failed(engine: Engine, now: datetime) -> int:
    """Give failed rows another round of attempts (after the far side was fixed)."""
    with engine.db.transaction() as session:
        return session.execute(update(Delivery).where(Delivery.status == FAILED)
                               .values(status=PENDING, attempts=0, available_at=now)).rowcount
