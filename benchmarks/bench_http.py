"""6. The app under gunicorn on PostgreSQL: simulated people log in, open their inbox and complete
tasks (with an evidence upload) for a fixed time. Loopback only; bounded in time."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import update

from engine.cli.setup import default_workers
from engine.ledger.items import NewItem, create_item
from engine.ledger.rounds import add_round, find_round
from engine.people.directory import add_user
from engine.store.models import IMMEDIATE, User

from .bench_engine import DEADLINE, FIX
from .harness import fresh_engine, summary

PASSWORD = "bench-pass-2026"
EVIDENCE = b"%PDF-1.4 " + b"y" * 20_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(users: int, items_each: int):
    folder = Path(tempfile.mkdtemp(prefix="rectify-bench-http-"))
    engine = fresh_engine("postgres", folder)
    add_round(engine, "并发基准", "市委巡察组", "某单位", DEADLINE.replace(year=DEADLINE.year - 1))
    add_user(engine, "领导甲", "领导班子", ["分管领导"], PASSWORD)
    names = []
    for n in range(users):
        name, unit = f"办理人{n}", f"科室{n}"
        add_user(engine, name, unit, ["责任人"], PASSWORD)
        add_user(engine, f"科长{n}", unit, ["责任单位负责人"], PASSWORD)
        names.append((name, unit))
    with engine.db.transaction() as s:
        round_ = find_round(s, "并发基准")
        for n, (name, unit) in enumerate(names):
            for i in range(items_each):
                create_item(engine, s, round_, NewItem(number=f"{n}-{i}", title=f"问题{n}-{i}", category=IMMEDIATE,
                                                       unit=unit, person=name, leader="领导甲", deadline=DEADLINE))
        # Real Argon2 parameters for logins, whatever profile this process hashes with.
        s.execute(update(User).values(password_hash=PasswordHasher().hash(PASSWORD)))
    url = engine.settings.database_url
    engine.close()
    return folder, url, names


async def _person(base: str, name: str, until: float, stats: dict):
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as client:
        async def timed(kind, call):
            start = time.perf_counter()
            response = await call
            stats["latency"].append(time.perf_counter() - start)
            stats.setdefault(kind, []).append(time.perf_counter() - start)
            if response.status_code == 409:
                stats["conflicts"] += 1
            elif response.status_code >= 400:
                stats["errors"] += 1
                stats["error_samples"].append(f"{kind} {response.status_code}")
            return response

        page = await timed("login_page", client.get("/login"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        await timed("login", client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token}))
        while time.perf_counter() < until:
            inbox = await timed("inbox", client.get("/inbox"))
            match = re.search(r'href="(/tasks/[0-9a-f-]+)"', inbox.text)
            if not match:
                break
            task = await timed("task_page", client.get(match.group(1)))
            token = re.search(r'name="csrf_token" value="([^"]+)"', task.text).group(1)
            done = await timed("complete", client.post(match.group(1), data={**FIX, "csrf_token": token},
                                                       files={"evidence": ("回单.pdf", EVIDENCE, "application/pdf")}))
            if done.status_code == 302:
                stats["completed"] += 1


def run(quick: bool = False) -> dict:
    # The server as `rectify serve` runs it by default, unless BENCH_WORKERS / BENCH_THREADS say otherwise.
    users, seconds = (5, 10) if quick else (20, 60)
    workers = int(os.environ.get("BENCH_WORKERS") or default_workers())
    threads = int(os.environ.get("BENCH_THREADS") or 1)
    folder, url, names = _setup(users, 20 if quick else 150)
    port = _free_port()
    env = {**os.environ, "RECTIFY_DATABASE_URL": url, "RECTIFY_INSTANCE_PATH": str(folder / "instance")}
    env.pop("RECTIFY_PASSWORD_PROFILE", None)
    server = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "serve", "--port", str(port),
                               "--workers", str(workers), "--threads", str(threads)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        stats = {"latency": [], "errors": 0, "conflicts": 0, "completed": 0, "error_samples": []}
        start = time.perf_counter()
        until = start + seconds

        async def everyone():
            await asyncio.gather(*(_person(base, name, until, stats) for name, _unit in names))

        asyncio.run(everyone())
        elapsed = time.perf_counter() - start
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    overall = summary(stats["latency"])
    return {
        "users": users, "seconds": round(elapsed, 1), "workers": workers, "threads": threads,
        "requests": overall["n"], "requests_per_second": overall["n"] / elapsed,
        "p50_ms": overall["median_ms"], "p95_ms": overall["p95_ms"],
        "by_request": {k: summary(v) for k, v in stats.items() if isinstance(v, list) and v and isinstance(v[0], float) and k != "latency"},
        "tasks_completed": stats["completed"], "tasks_per_second": stats["completed"] / elapsed,
        "unexpected_errors": stats["errors"], "conflicts": stats["conflicts"], "error_samples": stats["error_samples"][:5],
    }
