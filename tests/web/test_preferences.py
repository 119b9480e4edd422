"""设置: a person chooses an address, channels and the digest hour; bad input named; the admin page
shows deliveries."""
from web_session import Auth, csrf_token

from engine.notify.preferences import get_preferences
from engine.people.directory import user_id_of


def post(client, url, form):
    return client.post(url, data=form | {"csrf_token": csrf_token(client, "/inbox")})


def test_a_person_sets_how_they_are_told(client, engine):
    Auth(client).login("张伟")
    assert "每日待办摘要" in client.get("/settings").get_data(as_text=True)
    bad = post(client, "/settings", {"email": "not-an-address", "digest_hour": "25", "notify_email": "1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "「电子邮箱」格式不正确" in html
    assert get_preferences(engine, user_id_of(engine, "张伟"))["email"] == ""
    saved = post(client, "/settings", {"email": "zhangwei@example.gov.cn", "digest_hour": "7", "notify_email": "1"})
    assert saved.status_code == 302
    prefs = get_preferences(engine, user_id_of(engine, "张伟"))
    assert (prefs["email"], prefs["digest_hour"], prefs["notify_email"], prefs["notify_webhook"]) == (
        "zhangwei@example.gov.cn", 7, True, False)
    post(client, "/settings", {"email": "", "digest_hour": ""})
    assert get_preferences(engine, user_id_of(engine, "张伟"))["digest_hour"] is None


def test_the_admin_page_shows_deliveries(client, engine):
    Auth(client).login("孙浩")
    page = client.get("/admin").get_data(as_text=True)
    assert 'id="delivery"' in page and "未配置（只有站内通知）" in page
