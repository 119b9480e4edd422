"""Sign-in that strangers cannot lock, sessions that end, and secrets that are kept (through the
Flask test client, each request from a chosen address)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from helpers import PASSWORD
from web_session import Auth, csrf_token

from engine.people import passwords
from engine.people.sessions import IDLE

ROOT = Path(__file__).resolve().parents[2]


def login_from(client, address: str, name: str, password: str = PASSWORD, **headers):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_a_stranger_guessing_cannot_lock_the_leader_out(app):
    stranger, leader = app.test_client(), app.test_client()
    for _ in range(6):
        assert login_from(stranger, "203.0.113.9", "陈刚", "guess-1234").status_code == 403
    slowed = login_from(stranger, "203.0.113.9", "陈刚")  # even the right password waits, from there
    assert slowed.status_code == 403 and "尝试过于频繁" in slowed.get_data(as_text=True)
    assert login_from(leader, "198.51.100.7", "陈刚").status_code == 302  # the leader, from their own desk


def test_forwarded_addresses_are_believed_only_from_a_configured_proxy(app, monkeypatch):
    client = app.test_client()
    for n in range(4):  # a spoofed X-Real-IP per request would dodge the per-source wait if believed
        login_from(client, "203.0.113.9", "陈刚", "guess-1234", **{"X-Real-IP": f"10.0.0.{n}"})
    assert "尝试过于频繁" in login_from(client, "203.0.113.9", "陈刚", **{"X-Real-IP": "10.0.0.99"}).get_data(as_text=True)
    monkeypatch.setenv("RECTIFY_TRUSTED_PROXIES", "127.0.0.1")
    assert login_from(client, "127.0.0.1", "陈刚", **{"X-Real-IP": "10.0.0.99"}).status_code == 302


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer_and_the_same_work(app, monkeypatch):
    checks = []
    real = passwords.check_password
    monkeypatch.setattr("engine.people.logins.check_password", lambda h, p: checks.append(1) or real(h, p))
    unknown = login_from(app.test_client(), "192.0.2.1", "查无此人").get_data(as_text=True)
    known = login_from(app.test_client(), "192.0.2.2", "张伟", "guess-1234").get_data(as_text=True)
    assert "姓名或密码错误" in unknown and "姓名或密码错误" in known
    assert checks == [1, 1]  # a password hash is checked for the unknown name too: no faster answer


def test_logout_ends_the_session_even_for_a_copied_cookie(app):
    client = app.test_client()
    Auth(client).login("张伟")
    cookie = client.get_cookie("session").value
    Auth(client).logout()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/inbox").status_code == 302


def test_a_password_change_ends_the_persons_other_sessions(app):
    desk, phone = app.test_client(), app.test_client()
    Auth(desk).login("张伟")
    Auth(phone).login("张伟")
    changed = desk.post("/password", data={"old": PASSWORD, "new": "new-pass-2026", "repeat": "new-pass-2026",
                                           "csrf_token": csrf_token(desk, "/password")})
    assert changed.status_code == 302
    assert desk.get("/inbox").status_code == 200  # the session that changed it stays
    assert phone.get("/inbox").status_code == 302


def test_an_idle_session_ends(app, engine):
    client = app.test_client()
    Auth(client).login("张伟")
    assert client.get("/inbox").status_code == 200
    with engine.clock.pinned(engine.clock.now() + IDLE + timedelta(minutes=1)):
        assert client.get("/inbox").status_code == 302


def test_wrong_current_passwords_are_limited_like_sign_off(app):
    client = app.test_client()
    Auth(client).login("张伟")
    for _ in range(5):
        wrong = client.post("/password", data={"old": "guess-1234", "new": "new-pass-2026", "repeat": "new-pass-2026",
                                               "csrf_token": csrf_token(client, "/password")})
        assert wrong.status_code == 400
    stopped = client.post("/password", data={"old": PASSWORD, "new": "new-pass-2026", "repeat": "new-pass-2026",
                                              "csrf_token": csrf_token(client, "/password")})
    assert stopped.status_code == 403 and "次数过多" in stopped.get_data(as_text=True)


KEY_RACE = """
import sys
from pathlib import Path
from web import _secret_key
print(_secret_key(Path(sys.argv[1])))
"""


def test_workers_starting_together_share_one_private_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("RECTIFY_SECRET_KEY", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "RECTIFY_SECRET_KEY"} | {"PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", KEY_RACE, str(tmp_path / "instance")], stdout=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT) for _ in range(6)]
    keys = {w.communicate(timeout=60)[0].strip() for w in workers}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]  # no temporary left


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    from dataclasses import replace

    from engine import Engine, Settings

    engine = Engine(replace(Settings.from_env(), database_url=f"sqlite:///{tmp_path / 'new.db'}",
                            instance_path=tmp_path))
    with engine.db.transaction() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x)")
    engine.close()
    for name in ("new.db", "new.db-wal"):
        if (tmp_path / name).exists():
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
