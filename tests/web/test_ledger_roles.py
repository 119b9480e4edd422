"""The ledger upload says who would gain which role, and grants it only when that is ticked."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

from helpers import new_round
from ledger_fixture import workbook_bytes
from web_session import csrf_token

from engine.ledger.rounds import get_round


def test_a_role_grant_must_be_ticked_separately(client, auth, engine):
    round_name = new_round(engine)
    auth.login("周婷")
    data = workbook_bytes([{"序号": 1, "方面": "（一）方面", "问题": "一个问题", "整改类别": "立行立改", "责任单位": "财务科",
                            "责任人": "张伟", "分管领导": "王强",
                            "整改时限": (date.today() + timedelta(days=30)).isoformat()}])
    round_id = get_round(engine, round_name)["id"]
    preview = client.post(f"/rounds/{round_id}/import", data={"file": (io.BytesIO(data), "台账.xlsx"),
                                                              "csrf_token": csrf_token(client, f"/rounds/{round_id}")},
                          content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "王强（工程管理科）" in page and "分管领导" in page and "全部单位" in page
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)
    token = csrf_token(client, f"/rounds/{round_id}")
    unticked = client.post(f"/rounds/{round_id}/import/confirm", data={"sha256": sha, "csrf_token": token})
    assert unticked.status_code == 400 and "请勾选确认授予角色" in unticked.get_data(as_text=True)
    assert "一个问题" not in client.get("/items").get_data(as_text=True)
    ticked = client.post(f"/rounds/{round_id}/import/confirm",
                         data={"sha256": sha, "csrf_token": token, "allow_role_changes": "1"})
    assert ticked.status_code == 302
    assert "一个问题" in client.get("/items").get_data(as_text=True)
