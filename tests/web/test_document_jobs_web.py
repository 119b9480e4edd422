"""The 整改情况报告 PDF on the web: a small round downloads at once; above the app's UPWARD_PDF_SYNC_LIMIT
the request queues a background job and the office follows it on a page (updating itself while it waits,
then a download with when it was made; a failure says why in Chinese and offers to try again). Who may
see the job is who may download the report."""
from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

import pytest
from helpers import new_item, new_round
from web_session import Auth, csrf_token

from engine.ledger.rounds import get_round
from engine.reports import document_jobs
from engine.store.models import IMMEDIATE
from web import create_app

NAMED = quote("整改情况报告")  # in the download's file name (RFC 5987 filename*)

OFFICE, LEADER, OFFICER = "周婷", "陈刚", "张伟"


@pytest.fixture
def round_id(engine):
    new_round(engine)
    new_item(engine, IMMEDIATE)
    new_item(engine, IMMEDIATE, number="2")
    return get_round(engine, "测试轮次")["id"]


def _client(engine, limit: int | None, dispatch: str = "inline"):
    config = {"TESTING": True, "RECTIFY_SETTINGS": replace(engine.settings, outbox_dispatch=dispatch)}
    app = create_app(config | ({"UPWARD_PDF_SYNC_LIMIT": limit} if limit is not None else {}))
    app.extensions["rectify"].close()
    app.extensions["rectify"] = engine
    engine.outbox.dispatch = dispatch
    return app.test_client()


def test_a_small_round_downloads_the_pdf_at_once(engine, round_id):
    client = _client(engine, None)  # the default limit: two problems are far below it
    Auth(client).login(OFFICE)
    response = client.get(f"/rounds/{round_id}/upward.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF") and NAMED in response.headers["Content-Disposition"]
    docx = client.get(f"/rounds/{round_id}/upward.docx")  # the Word file is unchanged
    assert docx.status_code == 200 and docx.get_data().startswith(b"PK")


def test_a_large_round_is_made_in_the_background_and_downloaded_from_its_page(engine, round_id):
    client = _client(engine, 1, dispatch="deferred")
    Auth(client).login(LEADER)
    asked = client.get(f"/rounds/{round_id}/upward.pdf")
    assert asked.status_code == 302
    page_url = asked.headers["Location"]
    assert re.search(rf"/rounds/{round_id}/upward/jobs/\d+$", page_url)
    waiting = client.get(page_url).get_data(as_text=True)
    assert "排队中" in waiting and 'data-finished="false"' in waiting and "js/follow_job.js" in waiting
    assert "job-download" not in waiting and 'http-equiv="refresh"' not in waiting  # axe: no timed refresh
    assert client.get(f"/rounds/{round_id}/upward.pdf").headers["Location"] == page_url  # the same job
    assert client.get(page_url + "/file").status_code == 409  # not made yet: said so
    engine.outbox.run()  # the worker makes it
    done = client.get(page_url)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "已完成" in html and "js/follow_job.js" not in html
    assert "已于" in html and "生成，共" in html and "重新生成" in html and "job-outdated" not in html
    download = client.get(page_url + "/file")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.get_data().startswith(b"%PDF")
    assert NAMED in download.headers["Content-Disposition"]
    # Asked for again with nothing changed: the finished report is offered, not made again.
    assert client.get(f"/rounds/{round_id}/upward.pdf").headers["Location"] == page_url
    again = client.post(f"/rounds/{round_id}/upward/jobs", data={"csrf_token": csrf_token(client, page_url)})
    assert again.status_code == 302 and again.headers["Location"] != page_url
    # An officer may not download the report: not the job page, its file, nor a new job.
    Auth(client).logout()
    Auth(client).login(OFFICER)
    assert client.get(page_url).status_code == 403
    assert client.get(page_url + "/file").status_code == 403
    assert client.get(f"/rounds/{round_id}/upward.pdf").status_code == 403
    assert client.post(f"/rounds/{round_id}/upward/jobs",
                       data={"csrf_token": csrf_token(client, "/inbox")}).status_code == 403
    assert client.get(f"/rounds/{round_id}/upward/jobs/999999").status_code == 403


def test_a_failed_job_says_why_and_may_be_tried_again(engine, round_id, monkeypatch):
    client = _client(engine, 1)
    Auth(client).login(OFFICE)

    def broken(report, target, progress):
        raise MemoryError("out of memory")

    monkeypatch.setattr(document_jobs, "write_upward_pdf", broken)
    page_url = client.get(f"/rounds/{round_id}/upward.pdf").headers["Location"]
    failed = client.get(page_url).get_data(as_text=True)
    assert "失败" in failed and "报告未能生成" in failed and "排版时出错" in failed and "job-download" not in failed
    assert "js/follow_job.js" not in failed and 'id="job-again"' in failed
    assert client.get(page_url + "/file").status_code == 409
    monkeypatch.undo()
    retried = client.post(f"/rounds/{round_id}/upward/jobs", data={"csrf_token": csrf_token(client, page_url)})
    assert retried.status_code == 302 and retried.headers["Location"] != page_url
    assert "已完成" in client.get(retried.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/rounds/{round_id}/upward/jobs/999999").status_code == 404
    other_round = get_round(engine, new_round(engine, "另一轮次"))["id"]
    assert client.get(page_url.replace(f"/rounds/{round_id}/", f"/rounds/{other_round}/")).status_code == 404


def test_the_limit_is_a_deployment_setting_and_a_wrong_one_is_refused_at_start(engine, monkeypatch):
    config = {"TESTING": True, "RECTIFY_SETTINGS": engine.settings}
    monkeypatch.setenv("RECTIFY_UPWARD_PDF_SYNC_LIMIT", "50")
    app = create_app(config)
    app.extensions["rectify"].close()
    assert app.config["UPWARD_PDF_SYNC_LIMIT"] == 50
    monkeypatch.setenv("RECTIFY_UPWARD_PDF_SYNC_LIMIT", "五十")
    with pytest.raises(ValueError, match="RECTIFY_UPWARD_PDF_SYNC_LIMIT.*五十"):
        create_app(config)
    monkeypatch.delenv("RECTIFY_UPWARD_PDF_SYNC_LIMIT")
    app = create_app(config)
    app.extensions["rectify"].close()
    assert app.config["UPWARD_PDF_SYNC_LIMIT"] == document_jobs.SYNC_LIMIT
