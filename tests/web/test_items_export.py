"""整改台账's 导出Excel: the button carries the list's filters (not the page), the download holds every
matching item the user may see — a unit's officer only their unit's — with 轮次 first."""
from __future__ import annotations

import html
import re
from io import BytesIO
from urllib.parse import parse_qs, unquote, urlsplit

from helpers import TODAY, new_item, new_round
from openpyxl import load_workbook

from engine.ledger.rounds import get_round
from engine.store.models import IMMEDIATE, TIME_LIMITED

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _world(engine) -> int:
    """Two rounds; 55 items in the second (more than a page), every fifth of 工程管理科; returns its id."""
    new_round(engine, "第一轮")
    new_item(engine, IMMEDIATE, "1", round_name="第一轮")
    new_round(engine, "第二轮")
    for n in range(1, 56):
        new_item(engine, IMMEDIATE if n % 2 else TIME_LIMITED, str(n), round_name="第二轮",
                 **({"unit": "工程管理科", "person": "王强"} if n % 5 == 0 else {}))
    return get_round(engine, "第二轮")["id"]


def _rows(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == XLSX
    values = [[c.value for c in row] for row in load_workbook(BytesIO(response.get_data())).active.iter_rows()]
    assert values[0][:3] == ["轮次", "序号", "方面"]
    return [dict(zip(values[0], row)) for row in values[1:]]


def test_the_button_carries_the_filters_and_the_download_every_matching_row(auth, client, engine):
    second = _world(engine)
    auth.login("周婷")
    page = client.get(f"/items?round={second}&category={TIME_LIMITED}&page=1").get_data(as_text=True)
    link = html.unescape(re.search(r'<a [^>]*id="export-items"[^>]*href="([^"]+)"', page.replace("\n", " ")).group(1))
    assert ">导出Excel</a>" in page
    url = urlsplit(link)
    assert url.path == "/items/export.xlsx" and parse_qs(url.query) == {"round": [str(second)],
                                                                      "category": [TIME_LIMITED]}
    response = client.get(link)
    rows = _rows(response)
    assert len(rows) == 27 and {(r["轮次"], r["整改类别"]) for r in rows} == {("第二轮", TIME_LIMITED)}
    disposition = unquote(response.headers["Content-Disposition"])
    assert f"问题台账-第二轮-{TIME_LIMITED}-{TODAY:%Y%m%d}.xlsx" in disposition

    everything = _rows(client.get("/items/export.xlsx"))  # 56 items: more than the page of 50
    assert len(everything) == 56 and [r["轮次"] for r in everything[:2]] == ["第一轮", "第二轮"]
    assert f"问题台账-全部-{TODAY:%Y%m%d}.xlsx" in unquote(client.get("/items/export.xlsx").headers["Content-Disposition"])
    searched = _rows(client.get("/items/export.xlsx?q=王强"))
    assert len(searched) == 11 and {r["责任人"] for r in searched} == {"王强"}


def test_a_unit_officer_downloads_only_their_units_rows(auth, client, engine):
    _world(engine)
    auth.login("王强")
    rows = _rows(client.get("/items/export.xlsx"))
    assert len(rows) == 11 and {r["责任单位"] for r in rows} == {"工程管理科"}
    auth.logout()
    auth.login("张伟")
    rows = _rows(client.get("/items/export.xlsx?q=王强"))  # asking for another unit's person finds nothing
    assert rows == []
    works = re.search(r'<option value="(\d+)"[^>]*>工程管理科<', _page_as_zhou_ting(client, auth)).group(1)
    auth.login("张伟")
    response = client.get(f"/items/export.xlsx?unit={works}")  # nor another unit's items, nor its name
    assert _rows(response) == [] and "工程管理科" not in unquote(response.headers["Content-Disposition"])
    assert len(_rows(client.get("/items/export.xlsx"))) == 45


def _page_as_zhou_ting(client, auth) -> str:
    """/items as 周婷 (whose unit filter offers every unit), then logged out."""
    auth.logout()
    auth.login("周婷")
    page = client.get("/items").get_data(as_text=True)
    auth.logout()
    return page


def test_anonymous_visitors_are_sent_to_log_in(client, engine):
    response = client.get("/items/export.xlsx")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
