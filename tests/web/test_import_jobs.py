"""Confirming a ledger import queues a background job: the request answers at once with a page that
follows its progress; the import stays all or nothing, and a job refused in the background says why."""
from __future__ import annotations

import io
import re
import threading
from dataclasses import replace

from helpers import DEADLINE, new_round
from ledger_fixture import ledger_xlsx
from web_session import Auth, csrf_token

from engine.ledger.items import NewItem, add_item, list_items
from engine.ledger.rounds import get_round
from engine.ledger.xlsx.jobs import RunImport
from web import create_app


def _previewed(client, round_id: int) -> str:
    page = client.post(f"/rounds/{round_id}/import", data={"file": (io.BytesIO(ledger_xlsx()), "台账.xlsx"),
                                                           "csrf_token": csrf_token(client, f"/rounds/{round_id}")},
                       content_type="multipart/form-data").get_data(as_text=True)
    return re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)


def _office(engine, dispatch: str):
    """A round, and the app with background work dispatched as given, 整改办 signed in."""
    round_name = new_round(engine)
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": replace(engine.settings, outbox_dispatch=dispatch)})
    client = app.test_client()
    Auth(client).login("周婷")
    return round_name, get_round(engine, round_name)["id"], app.extensions["rectify"], client


def _confirm(client, round_id: int, sha: str):
    return client.post(f"/rounds/{round_id}/import/confirm",
                       data={"sha256": sha, "file_name": "台账.xlsx", "csrf_token": csrf_token(client, "/rounds")})


def test_the_confirmation_answers_before_the_import_and_the_page_follows_it(engine):
    round_name = new_round(engine)
    round_id = get_round(engine, round_name)["id"]
    app = create_app({"TESTING": True, "RECTIFY_SETTINGS": replace(engine.settings, outbox_dispatch="thread")})
    web_engine, client = app.extensions["rectify"], app.test_client()
    release, prepare = threading.Event(), RunImport.prepare

    def held(self, eng, event):
        release.wait(60)
        return prepare(self, eng, event)

    RunImport.prepare = held
    try:
        Auth(client).login("周婷")
        queued = _confirm(client, round_id, _previewed(client, round_id))
        assert queued.status_code == 302 and "/imports/" in queued.headers["Location"]
        waiting = client.get(queued.headers["Location"])
        text = waiting.get_data(as_text=True)
        assert waiting.status_code == 200 and "排队中" in text and "js/follow_job.js" in text
        assert list_items(engine, round_name) == []
    finally:
        release.set()
        RunImport.prepare = prepare
    web_engine.outbox.wait_idle()
    done = client.get(queued.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/rounds/{round_id}")
    assert "台账已导入：新建问题 25 个" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert len(list_items(engine, round_name)) == 25
    web_engine.close()


def test_a_job_refused_in_the_background_writes_nothing_and_says_why(engine):
    round_name, round_id, web_engine, client = _office(engine, "deferred")
    queued = _confirm(client, round_id, _previewed(client, round_id))
    # meanwhile someone adds a problem numbered 3 by hand
    add_item(engine, round_name, NewItem(number="3", title="手工添加的问题", category="立行立改", unit="财务科", person="张伟",
                                         leader="陈刚", deadline=DEADLINE))
    web_engine.outbox.run()
    refused = client.get(queued.headers["Location"])
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "未导入" in text and "序号「3」" in text
    assert [i["title"] for i in list_items(engine, round_name)] == ["手工添加的问题"]
    web_engine.close()


def test_pruning_keeps_the_ledger_a_queued_job_still_needs(engine):
    from datetime import timedelta

    from engine.store.file_prune import prune_files

    _, round_id, web_engine, client = _office(engine, "deferred")
    queued = _confirm(client, round_id, _previewed(client, round_id))
    with web_engine.clock.pinned(web_engine.clock.now() + timedelta(days=3)):  # the worker was down for days
        assert prune_files(web_engine)["removed"]["uploads"]["files"] == 0
    web_engine.outbox.run()
    assert client.get(queued.headers["Location"]).status_code == 302  # imported
    with web_engine.clock.pinned(web_engine.clock.now() + timedelta(days=3)):
        assert prune_files(web_engine)["removed"]["uploads"]["files"] == 1  # done: now it may go
    web_engine.close()
