"""flaskr-style fixtures, on SQLite and then on PostgreSQL (tests/conftest.py's `engine`): the engine with
the demo people, an app serving through that engine, a client, and an `auth` helper that logs in through
the real form (CSRF token included)."""
import pytest
from helpers import people
from web_session import Auth

from web import create_app


@pytest.fixture
def engine(engine):
    """tests/conftest.py's engine, SQLite then PostgreSQL, with the demo people (who log in)."""
    people(engine)
    return engine


@pytest.fixture
def app(engine):
    """The app on the test's database, serving through the test's engine: what a test does with `engine`
    and what the pages show go through one engine."""
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": engine.settings})
    app.extensions["rectify"].close()
    app.extensions["rectify"] = engine
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return Auth(client)
