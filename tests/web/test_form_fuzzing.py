"""Whatever a browser posts to a task form, the answer is a page (302/400/403/409), never a 500 or a
traceback (hypothesis)."""
from __future__ import annotations

from uuid import uuid4

from helpers import new_item, new_round, task_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_session import Auth, csrf_token

from engine.ledger.rounds import list_rounds
from engine.store.models import IMMEDIATE

fields = st.dictionaries(
    st.sampled_from(["measures", "result", "completed_on", "decision", "opinion", "password", "evidence", "x[0]",
                     "evidence_keep", "", "a" * 300]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=fields)
def test_posting_anything_to_a_task_never_breaks_the_page(app, client, engine, form):
    # the fixtures live across hypothesis's examples: the round and the login are made once
    if not list_rounds(engine):
        new_round(engine)
        Auth(client).login("张伟")
    item = new_item(engine, IMMEDIATE, number=uuid4().hex[:12])
    task = task_id(engine, item, "fix_task")
    response = client.post(f"/tasks/{task}", data={**form, "csrf_token": csrf_token(client, f"/tasks/{task}")})
    body = response.get_data(as_text=True)
    assert response.status_code in (302, 400, 403, 409), (response.status_code, form)
    assert "Traceback" not in body and "Internal Server Error" not in body
