"""Delivering notifications, on both databases, against a real local SMTP server (aiosmtpd on
127.0.0.1) and a local HTTP receiver: each message once even with two runs at the same moment, the
webhook signed with the shared secret, a refusing server retried and then shown as failed, the daily
digest grouped by light and sent once a day."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import replace
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from helpers import DEADLINE, FIX, do, evidence, new_item, sign

from engine.core import Engine
from engine.notify.delivery import FAILED, LEASE, MAX_ATTEMPTS, NotifyReport, _send_one, claim, delivery_status
from engine.notify.digest import notify_run
from engine.notify.preferences import set_preferences
from engine.people.directory import user_id_of
from engine.process.timers import tick
from engine.store.models import IMMEDIATE

SECRET = "shared-secret-2026"


class Inbox:
    def __init__(self, refuse: bool = False):
        self.messages, self.refuse = [], refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 refused by policy"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received, server.url = received, f"http://127.0.0.1:{server.server_port}/hook"
    yield server
    server.shutdown()


def delivering(engine, **settings) -> Engine:
    """Another engine on the same database, with delivery settings (as a second process would be)."""
    return Engine(replace(engine.settings, mail_from="zgb@example.gov.cn", **settings))


def at(engine, day, hour=9):
    return datetime.combine(day, time(hour), ZoneInfo(engine.settings.timezone))


def test_each_message_goes_once_even_with_two_runs_at_once(engine, staffed_round, smtp, receiver):
    for name, address in (("张伟", "zhangwei@example.gov.cn"), ("陈刚", "chengang@example.gov.cn")):
        set_preferences(engine, user_id_of(engine, name), address, True, True, None)  # no digest here
    mailer = delivering(engine, smtp_url=smtp.url, webhook_url=receiver.url, webhook_secret=SECRET)
    other = delivering(engine, smtp_url=smtp.url, webhook_url=receiver.url, webhook_secret=SECRET)
    try:
        item = new_item(mailer, IMMEDIATE)
        do(mailer, item, "fix_task", "张伟", FIX, files=evidence())
        sign(mailer, item, "unit_head_review", "李娜", "reject", "请补充银行回单")
        tick(mailer, at(engine, DEADLINE + timedelta(days=35)))  # red: 问责 to 张伟 and 陈刚

        moment = at(engine, DEADLINE + timedelta(days=35), 10)
        runs = [threading.Thread(target=notify_run, args=(e, moment)) for e in (mailer, other)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()

        mails = sorted((to[0], subject(m)) for to, m in smtp.messages)
        assert [to for to, _ in mails] == ["chengang@example.gov.cn", "zhangwei@example.gov.cn", "zhangwei@example.gov.cn"]
        assert sum("退回" in s for _, s in mails) == 1 and sum("问责" in s for _, s in mails) == 2
        returned = next(m for _, m in smtp.messages if "退回" in subject(m))
        assert "请补充银行回单" in returned.get_content() and returned["From"] == "zgb@example.gov.cn"

        bodies = [body for _, body in receiver.received]
        assert len(bodies) == len(set(bodies)) >= 5  # every notification once: 待办s, 退回, 问责s
        for headers, body in receiver.received:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers["X-Rectify-Signature"] == expected
        kinds = sorted(json.loads(b)["kind"] for b in bodies)
        assert kinds.count("退回") == 1 and kinds.count("问责") == 2
        assert delivery_status(engine)["counts"]["待发送"] == 0
        assert notify_run(mailer, moment).sent == 0  # nothing left to send
    finally:
        mailer.close()
        other.close()


def _one_return(engine, mailer) -> datetime:
    """张伟 wants e-mail; his fix of a new item is returned: one 退回 e-mail waits. A moment to send it at."""
    set_preferences(engine, user_id_of(engine, "张伟"), "zhangwei@example.gov.cn", True, True, None)
    item = new_item(mailer, IMMEDIATE)
    do(mailer, item, "fix_task", "张伟", FIX, files=evidence())
    sign(mailer, item, "unit_head_review", "李娜", "reject", "请补充")
    return at(engine, DEADLINE - timedelta(days=30), 7)


def test_a_run_whose_lease_lapsed_does_not_send_what_another_run_took_over(engine, staffed_round, smtp):
    """A run slower than its lease (a slow mail server, a batch of fifty) may find its last rows claimed by
    another run: only one of them sends each."""
    mailer = delivering(engine, smtp_url=smtp.url)
    try:
        moment = _one_return(engine, mailer)
        slow = "slow-run"
        [row] = claim(mailer, moment, slow)  # the 退回 e-mail
        later = moment + LEASE + timedelta(minutes=1)
        assert claim(mailer, later, "other-run") == [row]  # the slow run's lease lapsed: taken over
        report = NotifyReport()
        _send_one(mailer, row, moment, slow, report)  # the slow run reaches it at last
        assert (report.sent, smtp.messages) == (0, [])
        _send_one(mailer, row, later, "other-run", report)
        assert report.sent == 1 and len(smtp.messages) == 1
    finally:
        mailer.close()


def test_a_refusing_server_is_retried_then_shown_as_failed(engine, staffed_round, smtp):
    smtp.refuse = True
    mailer = delivering(engine, smtp_url=smtp.url)
    try:
        moment = _one_return(engine, mailer)
        first = notify_run(mailer, moment)
        assert (first.sent, first.retried) == (0, 1) and "554" in first.errors[0]["error"]
        assert notify_run(mailer, moment).retried == 0  # backing off: not again at once
        for attempt in range(1, MAX_ATTEMPTS):
            moment += timedelta(minutes=2 ** attempt)
            notify_run(mailer, moment)
        status = delivery_status(engine)
        assert status["counts"][FAILED] == 1 and "554" in status["failing"][0]["error"]
        smtp.refuse = False
        assert notify_run(mailer, moment + timedelta(days=1)).sent == 0  # failed stays failed until retried
    finally:
        mailer.close()


def test_the_daily_digest_groups_by_light_and_comes_once_a_day(engine, staffed_round, smtp):
    mailer = delivering(engine, smtp_url=smtp.url)
    try:
        set_preferences(mailer, user_id_of(engine, "张伟"), "zhangwei@example.gov.cn", True, True, 8)
        late = new_item(mailer, IMMEDIATE, number="1", deadline=DEADLINE - timedelta(days=70))  # overdue
        new_item(mailer, IMMEDIATE, number="2")
        day = DEADLINE - timedelta(days=60)
        assert notify_run(mailer, at(engine, day, 7)).digests == 0  # before his hour
        assert notify_run(mailer, at(engine, day, 9)).digests == 1
        assert notify_run(mailer, at(engine, day, 15)).digests == 0  # once a day
        [(to, digest)] = [(t, m) for t, m in smtp.messages if "摘要" in subject(m)]
        text = digest.get_content()
        assert to == ["zhangwei@example.gov.cn"] and "您有 2 项待办" in text
        assert text.index("【黄灯】1 项") < text.index("【绿灯】1 项")
        assert "落实整改：测试问题1（期限" in text and late
        assert notify_run(mailer, at(engine, day + timedelta(days=1), 9)).digests == 1
    finally:
        mailer.close()
