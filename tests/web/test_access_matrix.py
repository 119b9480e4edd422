"""Every page × every role × own or other unit, with the status each must get (table-driven): a
route added later must be added here, or the URL-map walk below fails."""
from __future__ import annotations

import pytest
from helpers import FIX, PASSWORD, close_immediate_item, do, evidence, new_item, new_round, task_id
from web_session import Auth, csrf_token

from engine.closure import signing
from engine.closure.records import item_closure_documents
from engine.ledger.detail import item_detail
from engine.ledger.rounds import get_round
from engine.people.directory import user_id_of
from engine.store.models import IMMEDIATE

PEOPLE = ["张伟", "李娜", "王强", "赵敏", "陈刚", "刘洋", "周婷", "吴磊", "孙浩"]
FINANCE = {"张伟", "李娜"}  # the own item's unit (财务科)
WORKS = {"王强", "赵敏"}  # the other item's unit (工程管理科)
BODY_WIDE = {"陈刚", "刘洋", "周婷", "吴磊", "孙浩"}
MANAGERS = {"周婷", "孙浩"}
EXPORTERS = {"陈刚", "刘洋", "周婷", "吴磊", "孙浩"}  # body-wide roles; a unit sees its items on /items


def _sees(who: str, unit: set[str]) -> int:
    return 200 if who in unit | BODY_WIDE else 403


# (method, URL template, expected status for a person) — {own}/{other} items, {round}, {doc}, {sha}, {task}
MATRIX = [
    ("GET", "/inbox", lambda who: 200),
    ("GET", "/items", lambda who: 200),
    ("GET", "/items/export.xlsx", lambda who: 200),  # each gets the rows they may see (tests/web/test_items_export.py)
    ("GET", "/items/{own}", lambda who: _sees(who, FINANCE)),
    ("GET", "/items/{other}", lambda who: _sees(who, WORKS)),
    ("GET", "/items/999999", lambda who: 404),
    ("GET", "/items/{own}/diagram", lambda who: _sees(who, FINANCE)),
    ("GET", "/items/{other}/diagram", lambda who: _sees(who, WORKS)),
    ("GET", "/items/{other}/evidence/{sha}", lambda who: _sees(who, WORKS)),
    # the evidence here is a PDF: no thumbnail for those who may see it (tests/web/test_evidence_thumbnails.py)
    ("GET", "/items/{other}/evidence/{sha}/thumbnail", lambda who: 404 if _sees(who, WORKS) == 200 else 403),
    ("GET", "/items/{own}/signatures.json", lambda who: _sees(who, FINANCE)),
    ("GET", "/items/{own}/closure/{doc}.pdf", lambda who: _sees(who, FINANCE)),
    ("POST", "/items/{own}/closure", lambda who: 302 if who in MANAGERS else 403),
    ("GET", "/tasks/{task}", lambda who: 200 if who == "王强" else 403),
    ("GET", "/rounds", lambda who: 200),
    ("GET", "/rounds/{round}", lambda who: 200),
    ("GET", "/rounds/999999", lambda who: 404),
    ("GET", "/rounds/{round}/edit", lambda who: 200 if who in MANAGERS else 403),
    ("GET", "/rounds/{round}/aspects", lambda who: 200 if who in MANAGERS else 403),
    ("GET", "/rounds/{round}/import", lambda who: 200 if who in MANAGERS else 403),
    ("GET", "/rounds/{round}/export.xlsx", lambda who: 200 if who in EXPORTERS else 403),
    ("GET", "/rounds/{round}/dashboard", lambda who: 200),
    ("GET", "/dashboard", lambda who: 200),
    ("GET", "/rounds/{round}/report", lambda who: 200),
    ("GET", "/rounds/{round}/report.html", lambda who: 200),
    ("GET", "/rounds/{round}/report.pdf", lambda who: 200),
    ("GET", "/admin", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/admin/users", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/admin/users/{uid}", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/notifications", lambda who: 200),
    ("GET", "/settings", lambda who: 200),
    ("POST", "/notifications/read", lambda who: 302),
    ("GET", "/items/new", lambda who: 200 if who in MANAGERS else 403),
    ("GET", "/items/{own}/edit", lambda who: 200 if who in MANAGERS else 403),
    ("GET", "/items/{own}/change", lambda who: 403),  # closed: nobody asks for a change
    ("GET", "/items/{other}/change", lambda who: 200 if who in {"王强", "赵敏", "周婷"} else 403),
    ("POST", "/items/{other}/talks", lambda who: 302 if who in {"陈刚", "刘洋", "吴磊"} else 403),
    ("POST", "/items/{other}/supervise", lambda who: 302 if who in {"陈刚", "刘洋", "周婷"} else 403),
    ("GET", "/rounds/{round}/activities", lambda who: 200),
    ("GET", "/rounds/{round}/lookbacks", lambda who: 200),
    ("GET", "/rounds/{round}/upward.pdf", lambda who: 200 if who in EXPORTERS else 403),
    ("GET", "/rounds/{round}/upward.docx", lambda who: 200 if who in EXPORTERS else 403),
    ("POST", "/rounds/{round}/upward/jobs", lambda who: 302 if who in EXPORTERS else 403),  # a background PDF
    ("GET", "/rounds/{round}/upward/jobs/999999", lambda who: 404 if who in EXPORTERS else 403),
    ("GET", "/rounds/{round}/upward/jobs/999999/file", lambda who: 404 if who in EXPORTERS else 403),
    ("GET", "/rounds/{round}/lists.xlsx", lambda who: 200 if who in EXPORTERS else 403),
    ("GET", "/password", lambda who: 200),
    ("GET", "/verify", lambda who: 200),
    # The process designer (流程设计; 孙浩 holds it and 管理员) and 整改办's 退回到任意环节.
    ("GET", "/designer", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/designer/versions/1.bpmn", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/designer/versions/1/edit", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/designer/versions/999999/edit", lambda who: 404 if who == "孙浩" else 403),
    ("POST", "/designer/check", lambda who: 400 if who == "孙浩" else 403),  # no BPMN sent
    ("POST", "/designer/deploy", lambda who: 400 if who == "孙浩" else 403),
    ("POST", "/designer/requests/999999/approve", lambda who: 404 if who == "孙浩" else 403),
    ("POST", "/designer/requests/999999/reject", lambda who: 404 if who == "孙浩" else 403),
    ("GET", "/designer/processes/immediate/migrate", lambda who: 200 if who == "孙浩" else 403),
    ("POST", "/designer/processes/immediate/migrate", lambda who: 302 if who == "孙浩" else 403),  # none chosen
    ("POST", "/designer/items/{other}/revert", lambda who: 404 if who == "孙浩" else 403),  # never migrated
    ("GET", "/designer/forms", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/designer/forms/immediate_fix", lambda who: 200 if who == "孙浩" else 403),
    ("GET", "/designer/forms/no_such_form", lambda who: 404 if who == "孙浩" else 403),
    ("POST", "/designer/forms/immediate_fix", lambda who: 400 if who == "孙浩" else 403),  # no text, no comment
    ("POST", "/designer/forms/preview", lambda who: 200 if who == "孙浩" else 403),  # says: empty, not valid
    ("GET", "/designer/form-versions/999999.json", lambda who: 404 if who == "孙浩" else 403),
    ("GET", "/items/{other}/rewind", lambda who: 200 if who == "周婷" else 403),
    ("POST", "/items/{other}/rewind", lambda who: 400 if who == "周婷" else 403),  # no step chosen
]


@pytest.fixture
def world(engine):
    signing.init_dev_certificate(engine, "市政工程管理处")
    round_name = new_round(engine)
    own = new_item(engine, IMMEDIATE)
    close_immediate_item(engine, own)
    other = new_item(engine, IMMEDIATE, number="9", unit="工程管理科", person="王强")
    do(engine, other, "fix_task", "王强", FIX, files=evidence())
    return {"own": own, "other": other, "round": get_round(engine, round_name)["id"],
            "doc": item_closure_documents(engine, own)[0]["id"],
            "sha": item_detail(engine, other)["evidence"][0]["sha256"],
            "task": _task_of(engine, other), "uid": user_id_of(engine, "张伟")}


def _task_of(engine, item_id: int) -> str:
    """A task held by 王强: the other item's next fix after a 退回."""
    from helpers import sign

    sign(engine, item_id, "unit_head_review", "赵敏", "reject", "请补充")
    return task_id(engine, item_id, "fix_task")


def test_the_matrix_names_every_route(app):
    named = {url.split("{")[0].split("999999")[0].rstrip("/") for _, url, _ in MATRIX}
    rules = {r.rule.split("<")[0].rstrip("/") for r in app.url_map.iter_rules()
             if r.endpoint not in {"static", "vendor"} and r.rule not in ("/", "/login", "/logout")}
    rules -= {"/rounds/", "/items/"}  # prefixes of the rules themselves
    missing = {r for r in rules if not any(n.startswith(r) or r.startswith(n) for n in named if n)}
    assert missing == set(), f"routes without a row in MATRIX: {sorted(missing)}"


@pytest.mark.parametrize("who", PEOPLE)
def test_each_role_gets_exactly_what_it_may(client, engine, world, who):
    Auth(client).login(who, PASSWORD)
    wrong = []
    for method, template, expected in MATRIX:
        url = template.format(**world)
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = client.post(url, data={"csrf_token": csrf_token(client, "/inbox")}).status_code
        if status != expected(who):
            wrong.append(f"{method} {url}: {status}, expected {expected(who)}")
    assert wrong == []


def test_anonymous_visitors_get_the_login_page_or_the_public_pages(client, world):
    for method, template, _ in MATRIX:
        url = template.format(**world)
        response = client.get(url) if method == "GET" else client.post(url, data={})
        if url == "/verify":
            assert response.status_code == 200
        elif method == "POST":
            assert response.status_code in (302, 400), url  # CSRF refused, or sent to log in
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
