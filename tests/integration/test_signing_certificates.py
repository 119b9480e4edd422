"""The body's signing certificate: a development one, a real one with its CA chain, clear refusals,
and records signed before a replacement still verify."""
import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from helpers import FIX, close_immediate_item, new_item, new_round, people

from engine.closure import signing
from engine.closure.records import closure_record, document_file, item_closure_documents
from engine.closure.verification import CERTIFICATE, verify_pdf
from engine.demo import DEMO_PASSWORD
from engine.errors import Conflict, InvalidInput
from engine.store.models import IMMEDIATE


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "市政工程管理处")])


def issued(tmp_path, not_after_days=365, passphrase=b"kouling-2026"):
    """A CA and a signing certificate it issued, written as files: (cert, key, chain, other key)."""
    now = datetime.now(timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("测试根证书")).issuer_name(_name("测试根证书"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("市政工程管理处电子签章")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - timedelta(days=2))
            .not_valid_after(now + timedelta(days=not_after_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "chain", "other")}
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["chain"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.BestAvailableEncryption(passphrase)))
    paths["other"].write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def test_a_development_certificate_lives_in_the_instance_folder(sqlite_engine):
    assert signing.certificate_info(sqlite_engine) | {"retired": []} == {
        "id": None, "configured": False, "status": "未配置", "message": signing.NOT_CONFIGURED, "retired": []}
    info = signing.init_dev_certificate(sqlite_engine, "市政工程管理处")
    assert info["subject"] == "市政工程管理处开发用签名证书" and info["self_signed"] and info["development"]
    assert info["status"] == "有效" and 725 <= info["days_left"] <= 730 and len(info["fingerprint"]) == 64
    folder = sqlite_engine.settings.instance_path / "signing" / info["fingerprint"]
    assert stat.S_IMODE(os.stat(folder / "key.pem").st_mode) == 0o600
    with pytest.raises(Conflict, match="--force"):
        signing.init_dev_certificate(sqlite_engine, "市政工程管理处")


def test_installing_a_real_certificate_checks_key_passphrase_and_validity(sqlite_engine, tmp_path):
    p = issued(tmp_path)
    with pytest.raises(InvalidInput, match="--passphrase"):
        signing.use_certificate(sqlite_engine, p["cert"], p["key"], (p["chain"],))
    with pytest.raises(InvalidInput, match="口令不正确"):
        signing.use_certificate(sqlite_engine, p["cert"], p["key"], (p["chain"],), passphrase="wrong")
    with pytest.raises(InvalidInput, match="不匹配"):
        signing.use_certificate(sqlite_engine, p["cert"], p["other"])
    with pytest.raises(InvalidInput, match="不是有效的 X.509 证书"):
        signing.use_certificate(sqlite_engine, p["other"], p["other"])
    (tmp_path / "old").mkdir()
    expired = issued(tmp_path / "old", not_after_days=-1)
    with pytest.raises(InvalidInput, match="过期"):
        signing.use_certificate(sqlite_engine, expired["cert"], expired["key"], passphrase="kouling-2026")
    assert not signing.is_configured(sqlite_engine)


def test_a_replaced_certificate_still_vouches_for_what_it_signed(sqlite_engine, tmp_path):
    engine = sqlite_engine
    signing.init_dev_certificate(engine, "市政工程管理处")
    people(engine)
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    close_immediate_item(engine, item)
    _, old_pdf = document_file(engine, item_closure_documents(engine, item)[0]["id"])

    p = issued(tmp_path)
    info = signing.use_certificate(engine, p["cert"], p["key"], (p["chain"],), passphrase="kouling-2026")
    assert not info["self_signed"] and info["issuer"].startswith("测试根证书") and info["chain"] == ["测试根证书（市政工程管理处）"]
    assert len(info["retired"]) == 1 and not info["development"]
    retired = engine.settings.instance_path / "signing" / info["retired"][0]["fingerprint"]
    assert (retired / "cert.pem").exists() and not (retired / "key.pem").exists()  # nobody signs with it again

    old = verify_pdf(engine, old_pdf)
    assert old.ok and "此前使用的签名证书" in next(c.message for c in old.checks if c.name == CERTIFICATE)
    _, new_pdf = document_file(engine, closure_record(engine, item, actor="tests")["id"])
    new = verify_pdf(engine, new_pdf)
    assert new.ok and new.signer.startswith("市政工程管理处电子签章")


def _task(cli, user, item_id):
    rows = json.loads(cli("tasks", "list", "--user", user, "--json").output)
    return next(t["id"] for t in rows if t["item_id"] == item_id)


def test_the_cli_writes_verifies_and_exports(cli, tmp_path):
    assert "开发用签名证书" in cli("demo").output  # `make run` needs no extra step
    shown = json.loads(cli("signing", "show", "--json").output)
    assert shown["configured"] and shown["id"] == shown["fingerprint"]
    items = json.loads(cli("items", "list", "--json").output)
    item = next(i["id"] for i in items if i["category"] == "立行立改" and i["person"] == "张伟")
    unclosed = cli("items", "closure", item, "--out", tmp_path / "x.pdf", ok=False)
    assert unclosed.exit_code == 1 and "尚未销号" in unclosed.output

    fix = json.dumps(FIX, ensure_ascii=False)
    (tmp_path / "回单.pdf").write_bytes(b"%PDF-1.4 receipt")
    cli("tasks", "complete", _task(cli, "张伟", item), "--as", "张伟", "--data", fix, "--file", tmp_path / "回单.pdf")
    for who in ("李娜", "陈刚"):
        cli("tasks", "complete", _task(cli, who, item), "--as", who, "--data",
            '{"decision": "approve", "opinion": "同意"}', "--password", DEMO_PASSWORD)

    out = tmp_path / "销号单.pdf"
    written = json.loads(cli("items", "closure", item, "--out", out, "--json").output)
    assert out.read_bytes()[:5] == b"%PDF-" and written["out"] == str(out)
    text = cli("pdf", "verify", out).output
    assert "核验通过" in text and "签署者：市政工程管理处开发用签名证书" in text and written["verification_code"] in text
    report = json.loads(cli("pdf", "verify", out, "--json").output)
    assert report["ok"] and report["id"] == written["verification_code"] and report["item"]["id"] == item

    tampered = tmp_path / "改过的.pdf"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    refused = cli("pdf", "verify", tampered, ok=False)
    assert refused.exit_code == 1 and "核验未通过" in refused.output and "✗ 数字签名" in refused.output

    again = json.loads(cli("items", "closure", item, "--out", tmp_path / "v2.pdf", "--regenerate", "--json").output)
    assert again["id"] != written["id"]

    chain_file = tmp_path / "签字链.json"
    assert "2 个签字，链条完整" in cli("items", "signatures", item, "--out", chain_file).output
    chain = json.loads(chain_file.read_text("utf-8"))
    assert [s["signer"]["name"] for s in chain["signatures"]] == ["李娜", "陈刚"]


def test_the_cli_installs_a_real_certificate_and_says_why_it_refuses_one(cli, tmp_path):
    p = issued(tmp_path)
    cli("init-db")
    wrong = cli("signing", "use", p["cert"], p["other"], ok=False)
    assert wrong.exit_code == 1 and "错误：" in wrong.output
    cli("signing", "use", p["cert"], p["key"], "--chain", p["chain"], "--passphrase", "kouling-2026")
    shown = json.loads(cli("signing", "show", "--json").output)
    assert shown["configured"] is True and "市政工程管理处电子签章" in json.dumps(shown, ensure_ascii=False)
