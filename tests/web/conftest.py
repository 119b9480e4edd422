"""flaskr-style fixtures: an app on a fresh database, a client, and an `auth` helper that logs in
through the real form (CSRF token included)."""
import re

import pytest

from web import create_app

from helpers import PASSWORD, people


@pytest.fixture
def app(sqlite_engine):
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": sqlite_engine.settings})
    people(app.extensions["rectify"])
    return app


@pytest.fixture
def engine(app):
    return app.extensions["rectify"]


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, name, password=PASSWORD):
        return self.client.post("/login", data={"name": name, "password": password,
                                                "csrf_token": csrf_token(self.client, "/login")})

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/inbox")})


@pytest.fixture
def auth(client):
    return Auth(client)
