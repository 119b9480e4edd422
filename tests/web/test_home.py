"""The landing page served by `make run` (the full UI is another issue)."""
import pytest

from engine.models import IMMEDIATE
from web import create_app

from helpers import new_item, new_round, people


@pytest.fixture
def client(sqlite_engine):
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": sqlite_engine.settings})
    return app.test_client(), app


def test_home_lists_the_ledger_in_chinese(client):
    test_client, app = client
    engine = app.extensions["rectify"]
    people(engine)
    new_round(engine)
    new_item(engine, IMMEDIATE)
    page = test_client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "问题台账" in html and "测试问题1" in html and "立行立改" in html


def test_health(client):
    assert client[0].get("/healthz").get_json() == {"ok": True}
