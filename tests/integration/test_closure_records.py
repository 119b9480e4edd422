"""Signed closure records (销号单): made when an item closes, verifiable by anyone; one changed byte,
an appended update, another certificate or a changed database each make verification fail."""
import json
import subprocess
from io import BytesIO

import pytest
from helpers import FIX, close_immediate_item, evidence, pdf_text, without_triggers
from pypdf import PdfReader
from sqlalchemy import select

from engine.canonical import digest_of
from engine.closure import certificates, signing
from engine.closure.content import record_data, record_digest
from engine.closure.pdf import render_and_sign
from engine.closure.records import (
    closure_record,
    document_file,
    item_closure_documents,
    latest_closure_pdf,
    signature_chain_json,
)
from engine.closure.verification import CERTIFICATE, MATCHES, PERSONAL, REGISTERED, SIGNATURE, verify_pdf
from engine.errors import Conflict
from engine.ledger.detail import item_detail
from engine.store.models import AuditEntry, Item

OPINIONS = ["请补充银行回单", "材料齐全，同意", "同意销号"]


def close(engine, item):
    """立行立改 with one return: three signatures, two evidence files."""
    close_immediate_item(engine, item, returns=OPINIONS[:1], opinions=OPINIONS[1:],
                         files=[evidence(), evidence("银行回单.pdf", b"%PDF-1.4 bank slip")])


@pytest.fixture
def signed(engine):
    signing.init_dev_certificate(engine, "市政工程管理处", actor="tests")
    return engine


@pytest.fixture
def closed(signed, item):
    close(signed, item)
    documents = item_closure_documents(signed, item)
    assert len(documents) == 1
    view, pdf = document_file(signed, documents[0]["id"])
    return item, view, pdf


def checks(report) -> dict:
    return {c.name: c for c in report.checks}


def failed(report) -> dict:
    return {c.name: c.message for c in report.checks if not c.ok}


def test_a_closed_items_record_verifies(signed, closed):
    item, view, pdf = closed
    report = verify_pdf(signed, pdf)
    assert report.ok, report.summary
    assert [c.name for c in report.checks] == [SIGNATURE, CERTIFICATE, REGISTERED, MATCHES, PERSONAL]
    assert "3 个签字均由签字人本人的密钥签署（李娜、陈刚）" in checks(report)[PERSONAL].message
    assert report.item["id"] == item and report.verification_code == view["verification_code"]
    assert "开发用签名证书" in report.signer and report.signing_time_local
    assert "签字 3 个、佐证材料 2 份" in checks(report)[MATCHES].message
    with signed.db.reading() as s:
        actions = list(s.execute(select(AuditEntry.action).where(AuditEntry.object_type == "document")).scalars())
    assert actions == ["closure.generate"]
    assert item_detail(signed, item)["status"] == "已销号"


def test_the_text_names_every_signer_decision_and_opinion(signed, closed):
    item, view, pdf = closed
    text = pdf_text(pdf)
    for s in item_detail(signed, item)["signatures"]:
        assert s["signer"] in text and s["decision_text"] in text and s["opinion"] in text and s["digest"] in text
    for e in item_detail(signed, item)["evidence"]:
        assert e["name"] in text and e["sha256"] in text
    assert FIX["measures"] in text and FIX["result"] in text and view["verification_code"] in text


def test_the_fonts_are_cjk_and_the_first_page_renders(closed, tmp_path):
    _, _, pdf = closed
    reader = PdfReader(BytesIO(pdf))
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert fonts and all("CJK" in f or "WenQuanYi" in f for f in fonts), fonts
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", tmp_path / "r.pdf", tmp_path / "p"], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 10_000


def flipped(pdf: bytes, position: int) -> bytes:
    changed = bytearray(pdf)
    changed[position] ^= 0x01
    return bytes(changed)


def test_any_changed_byte_fails_with_a_reason(signed, closed):
    _, _, pdf = closed
    contents = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    positions = {
        "header": 5, "first content stream": pdf.index(b"stream\n") + 40, "middle": len(pdf) // 2,
        "signature value": contents + 100, "signature padding": pdf.index(b">", contents) - 4,
        "trailer": pdf.rindex(b"startxref") + 12, "last byte": len(pdf) - 1,
    }
    for where, position in positions.items():
        report = verify_pdf(signed, flipped(pdf, position))
        assert not report.ok, where
        reasons = failed(report)
        assert REGISTERED in reasons and ("SHA-256" in reasons[REGISTERED] or "没有" in reasons[REGISTERED]), where
        assert all(reasons.values()), where
        if where in ("first content stream", "middle", "last byte"):
            assert "改动" in reasons[SIGNATURE], (where, reasons)


def with_appended_drawing(pdf: bytes) -> bytes:
    """An incremental update that draws on page 1, as someone editing the signed file would."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 RG 4 w 60 60 400 300 re S Q"))
    contents = page.raw_get("/Contents")
    page["/Contents"] = generic.ArrayObject(
        [*(contents if isinstance(contents, generic.ArrayObject) else [contents]), extra])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_appended_update_that_changes_content_fails(signed, closed):
    _, _, pdf = closed
    report = verify_pdf(signed, with_appended_drawing(pdf))
    reasons = failed(report)
    assert not report.ok and "增量更新" in reasons[SIGNATURE] and REGISTERED in reasons


def test_a_record_signed_by_another_certificate_fails(signed, closed, tmp_path):
    item, view, _ = closed
    cert, key = certificates.self_signed("市政工程管理处")  # same name, different key: a forgery
    folder = tmp_path / "other" / certificates.fingerprint(cert)
    signing.write_folder(folder, cert, key, [], "development", "2026-01-01T00:00:00+00:00")
    with signed.db.reading() as s:
        record = record_data(signed, s, s.get(Item, item))
    forged = render_and_sign(record, record_digest(record), view["verification_code"], view["created_at"],
                             signing.folder_credentials(folder))
    report = verify_pdf(signed, forged)
    reasons = failed(report)
    assert checks(report)[SIGNATURE].ok  # a sound signature …
    assert "不是本单位配置的签名证书" in reasons[CERTIFICATE]  # … by someone else
    assert "不一致" in reasons[REGISTERED] and not report.ok


def test_a_signature_changed_in_the_database_afterwards_fails_the_match(signed, closed):
    _, _, pdf = closed
    without_triggers(signed, "signatures", "UPDATE signatures SET opinion = '同意' WHERE seq = 1")
    report = verify_pdf(signed, pdf)
    reasons = failed(report)
    assert set(reasons) == {MATCHES}
    assert "第 1 个签字（李娜）的意见" in reasons[MATCHES] and "签字链已断裂" in reasons[MATCHES]


def test_evidence_changed_afterwards_fails_the_match(signed, closed):
    item, _, pdf = closed
    with signed.db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE evidence_files SET name = '替换.pdf' WHERE item_id = {item} AND name = '银行回单.pdf'")
    reasons = failed(verify_pdf(signed, pdf))
    assert set(reasons) == {MATCHES} and "银行回单.pdf" in reasons[MATCHES]


def test_routine_edits_after_closing_are_told_not_taken_for_forgery(signed, closed):
    """The record is what was true when it was signed: 整改办 renaming the round's 巡察组 or a 方面
    later leaves every issued record genuine, and the page says what changed since."""
    from engine.ledger.aspects import AspectEdit, edit_aspects, list_aspects
    from engine.ledger.rounds import update_round

    item, _, pdf = closed
    update_round(signed, "测试轮次", {"group": "市委第五巡察组"}, actor="周婷")
    [aspect] = list_aspects(signed, "测试轮次")
    edit_aspects(signed, "测试轮次", [AspectEdit(id=aspect["id"], title="（一）改过的方面")], actor="周婷")
    report = verify_pdf(signed, pdf)
    assert report.ok, failed(report)
    assert any("巡察轮次" in c for c in report.later_changes) and any("所属方面" in c for c in report.later_changes)


def test_without_a_certificate_the_item_still_closes_and_the_record_comes_later(engine, item):
    close(engine, item)
    assert item_detail(engine, item)["status"] == "已销号" and item_closure_documents(engine, item) == []
    with engine.db.reading() as s:
        unsigned = s.execute(select(AuditEntry.object_id, AuditEntry.details)
                             .where(AuditEntry.action == "closure.unsigned")).one()
    assert unsigned.object_id == str(item) and "rectify signing init" in unsigned.details["reason"]
    with pytest.raises(signing.SigningUnavailable, match="rectify signing init"):
        latest_closure_pdf(engine, item)
    signing.init_dev_certificate(engine, "市政工程管理处")
    view, pdf = latest_closure_pdf(engine, item, actor="tests")
    assert view["created_by"] == "tests" and verify_pdf(engine, pdf).ok


def test_regenerating_makes_a_new_record_and_keeps_the_old(signed, closed):
    item, first, first_pdf = closed
    second = closure_record(signed, item, actor="tests")
    listed = item_closure_documents(signed, item)
    assert [d["id"] for d in listed] == [second["id"], first["id"]] and listed[0]["latest"]
    assert second["verification_code"] != first["verification_code"] and second["sha256"] != first["sha256"]
    assert second["record_digest"] == first["record_digest"]  # the same facts, signed again
    _, second_pdf = document_file(signed, second["id"])
    assert verify_pdf(signed, first_pdf).ok and verify_pdf(signed, second_pdf).ok
    assert latest_closure_pdf(signed, item)[0]["id"] == second["id"]


def test_an_open_item_has_no_record(signed, item):
    with pytest.raises(Conflict, match="尚未销号"):
        closure_record(signed, item)


def test_the_signature_chain_json_lets_anyone_recompute_every_digest(signed, closed):
    item, _, _ = closed
    chain = json.loads(json.dumps(signature_chain_json(signed, item), ensure_ascii=False))
    assert chain["id"] == item and chain["chain_ok"] and chain["count"] == 3
    previous = "0" * 64
    for s in chain["signatures"]:
        # the digest rule's fields; the signer's own signature is over the digest, not part of it
        fields = {k: v for k, v in s.items()
                  if k not in ("digest", "signature", "signature_algorithm", "certificate", "superseded")}
        assert s["prev_digest"] == previous and digest_of(fields) == s["digest"]
        previous = s["digest"]
    assert [s["opinion"] for s in chain["signatures"]] == OPINIONS


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF\n"])
def test_anything_else_is_refused_with_a_reason_not_an_error(signed, data):
    report = verify_pdf(signed, data)
    assert not report.ok and report.item is None
    assert "PDF" in checks(report)[SIGNATURE].message or "没有数字签名" in checks(report)[SIGNATURE].message
    assert checks(report)[REGISTERED].message == "本系统中没有这份销号单的登记"
