"""The closure record's pure parts: the template renders Chinese with CJK fonts, the renderer refuses
file: and remote URLs, the PAdES signature checks out, record comparison names what differs."""
import json
import re
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader

from engine import render
from engine.closure import certificates, pades, signing
from engine.closure.content import differences, form_fields, value_text
from engine.closure.pdf import ATTACHMENT, human_size, render_and_sign, sample_record
from engine.closure.records import new_code
from engine.errors import EngineError


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    cert, key = certificates.self_signed("测试单位")
    folder = tmp_path_factory.mktemp("signing") / certificates.fingerprint(cert)
    signing.write_folder(folder, cert, key, [], "development", "2026-01-01T00:00:00+00:00")
    return signing.folder_credentials(folder)


@pytest.fixture(scope="module")
def signed_sample(credentials):
    record = sample_record(signatures=5, evidence_files=10)
    return record, render_and_sign(record, "d" * 64, "ABCD-EFGH-JKMN", "2026-11-20T06:30:00+00:00", credentials)


def embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.css", "https://example.com/a.png",
                                 "ftp://example.com/x"])
def test_the_url_fetcher_refuses_files_and_remote_urls(url):
    with pytest.raises(render.ResourceRefused):
        render.refusing_fetcher().fetch(url)


def test_the_url_fetcher_allows_inline_data():
    response = render.refusing_fetcher().fetch("data:text/plain;base64,5L2g5aW9")
    assert response.read() == "你好".encode("utf-8")


@pytest.mark.parametrize("markup", [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">',
    '<p style="background: url(https://example.com/track.png)">x</p>',
])
def test_rendering_stops_at_a_file_or_remote_resource(markup):
    with pytest.raises(EngineError, match="外部资源"):
        render.pdf(f"<html><body><p>销号单</p>{markup}</body></html>")


def test_a_rendered_record_is_signed_whole_and_by_its_certificate(signed_sample, credentials):
    _, pdf = signed_sample
    check = pades.check_pdf(pdf, [credentials.certificate])
    assert check.sound and check.trusted and not check.problems
    assert certificates.fingerprint(check.signer) == credentials.fingerprint


def test_the_record_travels_inside_the_pdf(signed_sample):
    record, pdf = signed_sample
    attached = PdfReader(BytesIO(pdf)).attachments[ATTACHMENT][0]
    data = json.loads(attached)
    assert data["record"] == record and data["verification_code"] == "ABCD-EFGH-JKMN"


def test_every_embedded_font_is_a_cjk_font(signed_sample):
    fonts = embedded_fonts(signed_sample[1])
    assert fonts and all("CJK" in name or "WenQuanYi" in name or "ZenHei" in name for name in fonts), fonts


def test_the_text_holds_the_chain_and_the_evidence(signed_sample, tmp_path):
    record, pdf = signed_sample
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", tmp_path / "r.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ["市政工程管理处", "巡察整改问题销号单", "财务报销审核把关不严", "ABCD-EFGH-JKMN",
                     *(s["signer"] for s in record["signatures"]), "退回", "通过",
                     *(e["sha256"] for e in record["evidence"])]:
        assert expected in text, expected
    assert re.search(r"第\s*1\s*页\s*共\s*\d+\s*页", text)  # page numbers


def test_fields_follow_the_form_and_leave_evidence_out():
    schema = {"properties": {"measures": {"title": "整改措施"}, "rules": {"title": "制度清单", "items": {
        "properties": {"title": {"title": "制度名称"}, "action": {"title": "类型"}}}}, "ok": {"title": "是否通过"}}}
    data = {"rules": [{"title": "报销制度", "action": "修订"}], "measures": "复核", "ok": True, "extra": 3,
            "evidence": [{"sha256": "a" * 64, "name": "x.pdf", "size": 1}], "blank": ""}
    assert form_fields(schema, data) == [["整改措施", "复核"], ["制度清单", "制度名称：报销制度，类型：修订"],
                                         ["是否通过", "是"], ["extra", "3"]]
    assert value_text(["a", "b"]) == "a；b"


def test_differences_name_the_changed_signature_and_a_reopened_item():
    shown = sample_record(3, 2)
    current = json.loads(json.dumps(shown))
    assert differences(shown, current) == ([], [])
    current["signatures"][0]["opinion"] = "改过的意见"
    current["closed_at"] = None
    mismatches, later = differences(shown, current)
    assert any("第 1 个签字（李娜）的意见" in r for r in mismatches)
    assert any("重新打开" in r for r in later)  # a reopening is a later event, not a forgery


def test_codes_and_sizes_read_well():
    code = new_code()
    assert len(code) == 14 and code.count("-") == 2 and not set(code) & set("01OIL")
    assert human_size(900) == "900 字节" and human_size(50 * 1024) == "50.0 KB"


def test_a_record_from_before_superseded_marks_still_renders(credentials):
    record = sample_record(signatures=3, evidence_files=1)
    for entry in record["signatures"]:
        del entry["superseded"]  # records made before 退回到任意环节 marked signatures carry no such key
    pdf = render_and_sign(record, "d" * 64, "ABCD-EFGH-JKMN", "2026-11-20T06:30:00+00:00", credentials)
    assert pdf.startswith(b"%PDF") and "已被取代" not in pdf_text_of(pdf)


def pdf_text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
