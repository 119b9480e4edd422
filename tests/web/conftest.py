"""flaskr-style fixtures: an app on a fresh database, a client, and an `auth` helper that logs in
through the real form (CSRF token included)."""
import pytest
from helpers import people
from web_session import Auth

from web import create_app


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


@pytest.fixture
def auth(client):
    return Auth(client)
