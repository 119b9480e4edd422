"""人员管理 through the test client: only 管理员; add with an initial password the person must replace;
namesakes as two accounts; edit roles and unit; disable ends the person's sessions; reset; handover."""
import pytest
from helpers import PASSWORD, new_item, new_round
from web_session import Auth, csrf_token

from engine.ledger.detail import item_detail
from engine.people.directory import list_users
from engine.store.models import IMMEDIATE


def post(client, url, form):
    return client.post(url, data=form | {"csrf_token": csrf_token(client, "/inbox")})


def person(engine, name, unit=None):
    return next(u for u in list_users(engine) if u["name"] == name and (unit is None or u["unit"] == unit))


@pytest.fixture
def admin(client):
    Auth(client).login("孙浩")
    return client


def test_only_the_administrator_manages_people(client, engine):
    Auth(client).login("周婷")
    assert client.get("/admin/users").status_code == 403
    assert post(client, "/admin/users", {"name": "某人", "unit": "财务科"}).status_code == 403


def test_two_namesakes_are_two_accounts_and_a_new_person_replaces_the_initial_password(admin, engine, app):
    bad = post(admin, "/admin/users", {"name": "张伟", "unit": "工程管理科", "login": "张伟", "password": "short"})
    assert bad.status_code == 400 and "登录名「张伟」已被使用" in bad.get_data(as_text=True)
    created = post(admin, "/admin/users", {"name": "张伟", "unit": "工程管理科", "login": "zhangwei2",
                                          "password": "initial-2026", "roles": "责任人"})
    assert created.status_code == 302
    assert person(engine, "张伟", "工程管理科")["login"] == "zhangwei2"

    other = app.test_client()
    Auth(other).login("zhangwei2", "initial-2026")
    forced = other.get("/inbox")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/password")
    changed = other.post("/password", data={"old": "initial-2026", "new": "mine-own-2026", "repeat": "mine-own-2026",
                                            "csrf_token": csrf_token(other, "/password")})
    assert changed.status_code == 302 and other.get("/inbox").status_code == 200
    assert person(engine, "张伟", "财务科")["login"] == "张伟"  # the first 张伟 keeps his account


def test_edit_disable_reset_and_hand_over(admin, engine, app):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    lina = person(engine, "李娜")["id"]
    bad = post(admin, f"/admin/users/{lina}", {"name": "", "login": "李娜", "unit": "财务科", "roles": "责任单位负责人"})
    assert bad.status_code == 400 and "「姓名」不能为空" in bad.get_data(as_text=True)
    assert post(admin, f"/admin/users/{lina}", {"name": "李娜", "login": "lina", "unit": "财务科",
                                              "roles": ["责任单位负责人", "整改办"]}).status_code == 302
    assert person(engine, "李娜")["roles"] == ["整改办", "责任单位负责人"]

    zhang = app.test_client()
    Auth(zhang).login("张伟")
    zid = person(engine, "张伟", "财务科")["id"]
    post(admin, f"/admin/users/{zid}/active", {"active": ""})
    assert zhang.get("/inbox").status_code == 302  # signed out at once
    assert "姓名或密码错误" in Auth(zhang).login("张伟").get_data(as_text=True)
    post(admin, f"/admin/users/{zid}/active", {"active": "1"})

    bad = post(admin, f"/admin/users/{zid}/handover", {"to": "刘洋", "reason": "调岗", "password": "wrong"})
    assert bad.status_code == 400 and "密码不正确" in bad.get_data(as_text=True)
    done = post(admin, f"/admin/users/{zid}/handover", {"to": "李娜", "reason": "调岗", "password": PASSWORD})
    assert done.status_code == 302
    assert item_detail(engine, item)["person"] == "李娜"
    assert [t["assignee"] for t in item_detail(engine, item)["open_tasks"]] == ["李娜"]

    assert post(admin, f"/admin/users/{zid}/password", {"temporary": "temp-2026-pass"}).status_code == 302
    assert person(engine, "张伟", "财务科")["must_change_password"] is True
