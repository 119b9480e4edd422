"""The dashboard counts lights by each item's earlier date (engine/reports/dashboard.py _lights): that
is only right while a light never improves as its date gets earlier, for any thresholds a round may set."""
from datetime import date, datetime, timedelta, timezone
from itertools import product

from engine.ledger.lights import LightRules, Thresholds
from engine.store.models import STATUS_CLOSED, STATUS_OPEN, STATUS_WITHDRAWN

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)
DAYS = [date(2026, 12, 1) + timedelta(days=n) for n in range(-50, 50, 3)]


def test_an_items_light_is_that_of_its_earlier_date():
    for blue, yellow, red in product((0, 7, 14), (0, 3, 40), (0, 10, 30)):
        rules = LightRules("Asia/Shanghai", Thresholds(blue, yellow, red))
        for deadline, due, status in product(DAYS, [None, *DAYS], (STATUS_OPEN, STATUS_CLOSED, STATUS_WITHDRAWN)):
            earlier = min(deadline, due) if due else deadline
            assert rules.item_light(deadline, status, NOW, due) == rules.item_light(earlier, status, NOW), \
                (blue, yellow, red, deadline, due, status)
