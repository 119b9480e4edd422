"""Two machines on one PostgreSQL: two `rectify serve` processes on separate instance folders and two
`rectify worker` processes, sharing only the database (where the files live too, by default), the
secrets given by the environment and the signing folders copied from the first machine. One item
goes its 立行立改 path with a person's requests alternating between the two apps; its 销号单 is made
exactly once (the app that closed it and both workers race for the event) and reads the same from
either app; an overdue item's escalation timer fires once though both workers tick; every webhook
message is sent once. PostgreSQL only: the deployment it models needs it."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from helpers import FIX, PASSWORD, TODAY, new_item, new_round, open_tasks, people, task_id
from sqlalchemy import func, select

from engine.closure import signing
from engine.closure.authority import ca_pem
from engine.doctor import examine
from engine.integrity import verify_history
from engine.ledger.rounds import add_round
from engine.notify.delivery import SENT, Delivery
from engine.store.models import IMMEDIATE, Document, EvidenceFile
from engine.store.outbox import pending

ROOT = Path(__file__).resolve().parents[2]
RECEIPT = b"%PDF-1.4 bank receipt uploaded on machine A"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Webhook:
    """The body's webhook receiver: records every message it is sent."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's name
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class Machines:
    """The processes of the deployment, each with an instance folder of its own."""

    def __init__(self, engine, tmp_path: Path, webhook_url: str):
        self.processes, self.tmp_path = [], tmp_path
        self.env = {**os.environ, "RECTIFY_DATABASE_URL": engine.settings.database_url,
                    "RECTIFY_SECRET_KEY": secrets.token_hex(32),  # RECTIFY_AUDIT_KEY: the run's, in os.environ
                    "RECTIFY_WEBHOOK_URL": webhook_url, "PYTHONPATH": str(ROOT)}
        self.env.pop("RECTIFY_FILE_STORE", None)  # the default: the database, on PostgreSQL
        self.env.pop("RECTIFY_OUTBOX_DISPATCH", None)  # the apps' default: a thread after the commit
        self.source = engine.settings.instance_path

    def start(self, name: str, *args) -> subprocess.Popen:
        instance = self.tmp_path / name
        for folder in ("signing", "authority"):  # the body's certificate and CA, copied from the first machine
            shutil.copytree(self.source / folder, instance / folder)
        log = open(self.tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", *args],
                                   env=self.env | {"RECTIFY_INSTANCE_PATH": str(instance)}, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))
        return process

    def app(self, name: str) -> str:
        port = free_port()
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "2")
        return f"http://127.0.0.1:{port}"

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for _, process in self.processes:
            process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def up(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


class Person:
    """One browser: its cookies go to both apps (one host, as behind one nginx)."""

    def __init__(self, name: str):
        self.name, self.browser = name, requests.Session()

    def token(self, url: str) -> str:
        page = self.browser.get(url, timeout=10)
        assert page.status_code == 200, (url, page.status_code)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def login(self, app: str) -> None:
        answer = self.browser.post(f"{app}/login", data={"name": self.name, "password": PASSWORD,
                                                          "csrf_token": self.token(f"{app}/login")},
                                   allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]

    def complete(self, app: str, task: str, data: dict, files=None) -> None:
        form = {**data, "csrf_token": self.token(f"{app}/tasks/{task}")}
        answer = self.browser.post(f"{app}/tasks/{task}", data=form, files=files, allow_redirects=False, timeout=60)
        assert answer.status_code == 302, answer.text[:2000]

    def sign(self, app: str, task: str, decision: str, opinion: str) -> None:
        self.complete(app, task, {"decision": decision, "opinion": opinion, "password": PASSWORD})

    def get(self, url: str) -> requests.Response:
        answer = self.browser.get(url, timeout=30)
        assert answer.status_code == 200, (url, answer.status_code)
        return answer


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # never SQLite: the deployment needs PostgreSQL
def test_two_apps_and_two_workers_on_one_postgresql_share_everything(engine, tmp_path):
    assert engine.evidence.files.kind == "database"
    people(engine)
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    add_round(engine, "上一轮", "市委第三巡察组", "市政工程管理处", TODAY - timedelta(days=120))
    with engine.clock.pinned(datetime.now(timezone.utc) - timedelta(days=40)):  # its escalation timer is due now
        overdue = new_item(engine, IMMEDIATE, number="9", deadline=TODAY - timedelta(days=60), round_name="上一轮")
    assert open_tasks(engine, overdue)[0]["bpmn_id"] == "fix_task" and len(open_tasks(engine, overdue)) == 1
    signing.init_dev_certificate(engine, "市政工程管理处")
    ca_pem(engine)  # the CA that issues personal certificates, made once here and copied to every machine

    webhook = Webhook()
    machines = Machines(engine, tmp_path, webhook.url)
    try:
        a, b = machines.app("a"), machines.app("b")
        for name in ("w1", "w2"):
            machines.start(name, "worker", "--interval", "1")
        for name, url in (("a", a), ("b", b)):
            wait_for(lambda: up(url) or machines.processes[0 if name == "a" else 1][1].poll() is not None, f"app {name}")
            assert up(url), machines.log(name)

        officer, head, leader = Person("张伟"), Person("李娜"), Person("陈刚")
        officer.login(a)
        assert "测试问题1" in officer.get(f"{b}/inbox").text  # A's session is known to B
        officer.complete(a, task_id(engine, item, "fix_task"), FIX, files={"evidence": ("银行回单.pdf", RECEIPT)})
        sha = hashlib.sha256(RECEIPT).hexdigest()

        head.login(b)
        assert head.get(f"{b}/items/{item}/evidence/{sha}").content == RECEIPT  # uploaded on A, served by B
        head.sign(b, task_id(engine, item, "unit_head_review"), "reject", "请补充盖章页")
        # Uploaded again on B after the 退回: the same bytes, stored once.
        officer.complete(b, task_id(engine, item, "fix_task"), FIX, files={"evidence": ("银行回单.pdf", RECEIPT)})
        head.sign(a, task_id(engine, item, "unit_head_review"), "approve", "同意")
        leader.login(a)
        leader.sign(b, task_id(engine, item, "leader_signoff"), "approve", "同意销号")

        def settled():
            with engine.db.reading() as session:
                return (not pending(session) and session.execute(select(func.count(Document.id))).scalar_one()
                        and any(t["bpmn_id"] == "accountability_task" for t in open_tasks(engine, overdue))
                        and session.execute(select(Delivery.status)).scalars().all()
                        and set(session.execute(select(Delivery.status)).scalars()) == {SENT})

        wait_for(settled, "the closure record, the escalation and the webhook messages", timeout=25)
        with engine.db.reading() as session:
            document_id = session.execute(select(Document.id).where(Document.item_id == item)).scalars().first()
        # Both apps serve the one record from the shared store, whichever process made it.
        pdfs = [leader.get(f"{url}/items/{item}/closure/{document_id}.pdf").content for url in (a, b)]
        time.sleep(2)  # a few more worker rounds: nothing is done twice
    finally:
        machines.stop()
        webhook.server.shutdown()

    with engine.db.reading() as session:
        [sha_of_record] = session.execute(select(Document.sha256).where(Document.item_id == item)).scalars().all()
        deliveries = sorted((d.payload["user"]["id"], d.payload["text"])
                            for d in session.execute(select(Delivery)).scalars())
        assert session.execute(select(func.count(EvidenceFile.id))).scalar_one() == 2  # one file, named twice
    assert [t["bpmn_id"] for t in open_tasks(engine, overdue)].count("accountability_task") == 1
    fired = [int(n) for name in ("w1", "w2") for n in re.findall(r"定时器 (\d+)", machines.log(name))]
    assert sum(fired) == 1  # both workers ticked every second; the timer fired once
    assert len(webhook.received) == len(deliveries) >= 4  # 退回, 问责 and the new tasks, each sent once
    assert sorted((m["user"]["id"], m["text"]) for m in webhook.received) == deliveries
    assert verify_history(engine).ok and examine(engine).ok
    assert not (tmp_path / "a" / "evidence").exists() and not (tmp_path / "b" / "documents").exists()

    assert pdfs[0] == pdfs[1] and pdfs[0].startswith(b"%PDF") and hashlib.sha256(pdfs[0]).hexdigest() == sha_of_record
