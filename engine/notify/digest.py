"""每日摘要 (the daily digest) and `rectify notify run`: a person who has an address, wants e-mail and
chose an hour gets, once a day from that hour on, their open tasks grouped by light and the items they
lead that are 黄 or 红. A digest with nothing in it is not sent. At most one per person and day, even
with several runs at once: its key is unique, and a second insert of it is simply dropped."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.ledger.lights import BLUE, GREEN, RED, YELLOW
from engine.notify.delivery import EMAIL, Delivery, NotifyReport, _row, send_due
from engine.store.models import STATUS_OPEN, InboxTask, Item, User

if TYPE_CHECKING:
    from engine.core import Engine


def _compose(name: str, tasks: list[tuple[str, str, str]], led: list[tuple[str, str]]) -> str:
    lines = [f"{name}，您好：", ""]
    if tasks:
        lines.append(f"您有 {len(tasks)} 项待办：")
        for light in (RED, YELLOW, BLUE, GREEN):  # the most pressing first
            mine = [t for t in tasks if t[0] == light]
            if mine:
                lines.append(f"【{light}灯】{len(mine)} 项")
                lines += [f"  · {step}（期限 {due}）" for _, step, due in mine]
    if led:
        lines += ["", f"您分管的问题中有 {len(led)} 个亮黄灯或红灯："] + [f"  · [{light}] {title}" for light, title in led]
    return "\n".join(lines)


def queue_digests(engine: Engine, now: datetime) -> int:
    if not engine.settings.smtp_url:
        return 0
    local = now.astimezone(engine.lights.tz)
    today = local.date()
    with engine.db.reading() as session:
        due_people = {u.id: u for u in session.execute(select(User).where(
            User.active.is_(True), User.email.is_not(None), User.notify_email.is_(True),
            User.digest_hour.is_not(None), User.digest_hour <= local.hour)).scalars()}
        done = set(session.execute(select(Delivery.digest_key).where(
            Delivery.digest_key.like(f"%:{today.isoformat()}"))).scalars())
        people = {uid: u for uid, u in due_people.items() if f"{uid}:{today.isoformat()}" not in done}
        if not people:
            return 0
        tasks: dict[int, list] = defaultdict(list)
        rules = engine.lights.by_round(session)
        for task, deadline, title, round_id in session.execute(
                select(InboxTask, Item.deadline, Item.title, Item.round_id).join(Item, Item.id == InboxTask.item_id)
                .where(InboxTask.assignee_id.in_(people)).order_by(InboxTask.due_date)):
            # as the inbox shows it: the task's own light, never better than its item's deadline's
            light = rules[round_id].item_light(deadline, STATUS_OPEN, now, task.due_date)
            tasks[task.assignee_id].append((light, f"{task.name}：{title}", (task.due_date or deadline).isoformat()))
        led: dict[int, list] = defaultdict(list)
        for leader_id, light, title in session.execute(select(Item.leader_id, Item.light, Item.title).where(
                Item.leader_id.in_(people), Item.status == STATUS_OPEN, Item.light.in_((YELLOW, RED)))):
            led[leader_id].append((light, title))
        digests = [(uid, people[uid].email, _compose(people[uid].name, tasks[uid], led[uid])) for uid in people
                   if tasks[uid] or led[uid]]
    queued = 0
    for uid, address, body in digests:
        key = f"{uid}:{today.isoformat()}"
        subject = f"【整改】每日待办摘要（{today.month}月{today.day}日）"
        try:
            with engine.db.transaction() as session:
                session.add(_row(uid, EMAIL, subject, body, {"to": address, "digest": today.isoformat()}, now, key))
            queued += 1
        except IntegrityError:  # another run wrote today's digest first
            continue
    return queued


def notify_run(engine: Engine, now: datetime | None = None, limit: int = 1000) -> NotifyReport:
    """What `rectify notify run` does: queue the digests that are due, then send what is due."""
    now = now or engine.clock.now()
    report = NotifyReport()
    report.digests = queue_digests(engine, now)
    send_due(engine, now, report, limit)
    return report
