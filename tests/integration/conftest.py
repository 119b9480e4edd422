import pytest
from helpers import new_item, new_round, people

from engine.store.models import IMMEDIATE


@pytest.fixture
def item(engine):
    """An 立行立改 item with the demo cast, its path started."""
    people(engine)
    new_round(engine)
    return new_item(engine, IMMEDIATE)
