"""A round's own work and internal documents through the test client: 整改工作记录, 回头看, the
整改情况报告 (.pdf/.docx), the 三张清单, and the round's document fields — who may do what, and bad
input answered in Chinese naming the field, with nothing written."""
import io
import re

import pytest
from docx import Document as WordDocument
from helpers import TODAY, close_immediate_item, new_item, new_round
from openpyxl import load_workbook
from web_session import Auth, csrf_token

from engine.ledger.activities import list_activities
from engine.ledger.lookbacks import lookback_campaigns
from engine.ledger.rounds import get_round
from engine.store.models import IMMEDIATE

OFFICE, OFFICER, LEADER = "周婷", "张伟", "陈刚"


@pytest.fixture
def round_id(engine):
    new_round(engine)
    return get_round(engine, "测试轮次")["id"]


def post(client, url, form):
    return client.post(url, data=form | {"csrf_token": csrf_token(client, "/inbox")})


def test_the_office_records_the_rounds_work_and_the_reports_count_it(client, engine, round_id):
    Auth(client).login(OFFICE)
    url = f"/rounds/{round_id}/activities"
    bad = post(client, url, {"kind": "茶话会", "held_on": "六月", "topic": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "整改工作记录有误" in html
    for text in ("「类型」应为", "「日期」应为 YYYY-MM-DD", "「议题或名称」不能为空"):
        assert text in html
    assert list_activities(engine, round_id) == []
    assert post(client, url, {"kind": "党组会", "held_on": TODAY.isoformat(), "topic": "专题研究整改方案"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "专题研究整改方案" in page and "召开党组（党委）会议专题研究1次" in page
    report = client.get(f"/rounds/{round_id}/report").get_data(as_text=True)
    assert "召开党组（党委）会议专题研究1次" in report

    Auth(client).logout()
    Auth(client).login(OFFICER)  # reads it, cannot record or remove
    assert "专题研究整改方案" in client.get(url).get_data(as_text=True)
    assert post(client, url, {"kind": "督查", "held_on": TODAY.isoformat(), "topic": "x"}).status_code == 403
    [activity] = list_activities(engine, round_id)
    assert post(client, f"{url}/{activity['id']}/delete", {}).status_code == 403


def test_internal_documents_are_for_the_office_and_leaders(client, engine, round_id):
    item = new_item(engine, IMMEDIATE)
    close_immediate_item(engine, item)
    Auth(client).login(LEADER)
    pdf = client.get(f"/rounds/{round_id}/upward.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "%E6%95%B4%E6%94%B9%E6%83%85%E5%86%B5%E6%8A%A5%E5%91%8A" in pdf.headers["Content-Disposition"]  # 整改情况报告
    docx = client.get(f"/rounds/{round_id}/upward.docx")
    assert docx.status_code == 200
    text = "\n".join(p.text for p in WordDocument(io.BytesIO(docx.data)).paragraphs)
    assert "巡察反馈意见整改情况的报告" in text
    assert client.get(f"/rounds/{round_id}/upward.txt").status_code == 404
    lists = client.get(f"/rounds/{round_id}/lists.xlsx")
    assert lists.status_code == 200
    assert load_workbook(io.BytesIO(lists.data)).sheetnames == ["问题清单", "任务清单", "责任清单"]

    Auth(client).logout()
    Auth(client).login(OFFICER)
    for url in (f"/rounds/{round_id}/upward.pdf", f"/rounds/{round_id}/upward.docx", f"/rounds/{round_id}/lists.xlsx"):
        assert client.get(url).status_code == 403, url
    assert "整改情况报告（PDF）" not in client.get(f"/rounds/{round_id}").get_data(as_text=True)


def test_the_office_starts_a_lookback_on_the_web(client, engine, round_id):
    items = [new_item(engine, IMMEDIATE, number=str(n)) for n in (1, 2)]
    close_immediate_item(engine, items[0])
    Auth(client).login(OFFICE)
    url = f"/rounds/{round_id}/lookbacks"
    assert re.search(r'id="eligible">1<', client.get(url).get_data(as_text=True))
    bad = post(client, url, {"method": "random", "sample": "", "days": "30"})
    assert bad.status_code == 400 and "「抽查数量」应为正整数" in bad.get_data(as_text=True)
    bad = post(client, url, {"method": "chosen", "numbers": "1，2", "days": "30"})
    assert bad.status_code == 400 and "第 2 号问题尚未销号" in bad.get_data(as_text=True)
    assert lookback_campaigns(engine, round_id)["campaigns"] == []
    assert post(client, url, {"method": "chosen", "numbers": "1", "days": "15", "note": "季度回头看"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "季度回头看" in page and "核查中" in page and "回头看核查" in page

    Auth(client).logout()
    Auth(client).login(OFFICER)
    assert post(client, url, {"method": "random", "sample": "1", "days": "30"}).status_code == 403
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "回头看核查" in inbox


def test_the_rounds_document_fields_are_edited_and_checked(client, engine, round_id):
    Auth(client).login(OFFICE)
    url = f"/rounds/{round_id}/edit"
    bad = post(client, url, {"close_target": "120", "upward_due": "明年"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "「销号率目标（%）」应为 1–100 的整数" in html and "「整改情况报告报送时限」" in html
    assert get_round(engine, round_id)["close_target"] == 95
    ok = post(client, url, {"deploying_authority": "市委", "feedback_recipient": "中共市政工程管理处委员会",
                            "close_target": "90", "upward_recipient": "市委巡察工作领导小组"})
    assert ok.status_code == 302
    saved = get_round(engine, round_id)
    assert (saved["deploying_authority"], saved["close_target"], saved["name"]) == ("市委", 90, "测试轮次")
    dashboard = client.get(f"/rounds/{round_id}/dashboard").get_data(as_text=True)
    assert "目标 90.0%" in dashboard and 'id="upward-due"' in dashboard


def test_the_rounds_light_thresholds_are_set_on_its_edit_page(client, engine, round_id):
    Auth(client).login(OFFICE)
    url = f"/rounds/{round_id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="red_days"' in form and 'value="30"' in form
    bad = post(client, url, {"yellow_days": "30", "red_days": "30"})
    assert bad.status_code == 400 and "黄灯的超期天数（30）应小于红灯的（30）" in bad.get_data(as_text=True)
    assert get_round(engine, round_id)["red_days"] == 30
    assert post(client, url, {"blue_days": "10", "yellow_days": "14", "red_days": "45"}).status_code == 302
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "到期前 10 天蓝灯，超期 14 天以上黄灯，超期 45 天以上红灯（问责）" in page
