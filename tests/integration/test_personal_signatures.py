"""Every sign-off is signed with its signer's own key (谁签字谁负责): the signature verifies with the
chain JSON and the body's CA certificate alone; the key is stored only wrapped under the person's
password, so the server cannot sign for them; a password change re-wraps it and an admin reset
revokes the certificate and issues a new one."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from helpers import FIX, PASSWORD, close_immediate_item, do, evidence, task_id
from sqlalchemy import select, text

from engine.canonical import digest_of
from engine.closure.authority import ca_pem
from engine.closure.personal import check_personal_signature
from engine.closure.records import signature_chain_json
from engine.people.admin import reset_password
from engine.people.directory import user_id_of
from engine.people.keys import KeyLocked, PersonalCertificate, _aad, _unwrap, personal_signature
from engine.people.logins import change_password
from engine.store.models import Base, User
from engine.work.completion import WrongSigningPassword, complete_task

DIGEST_FIELDS = ("item_id", "seq", "task_id", "step", "signer", "decision", "opinion", "signed_at", "payload",
                 "prev_digest")


def offline_check(entry: dict, ca_pem_text: str) -> bool:
    """A verifier with nothing but the JSON entry and the CA certificate (no engine code)."""
    ca = x509.load_pem_x509_certificate(ca_pem_text.encode())
    cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
    cert.verify_directly_issued_by(ca)
    assert entry["signature_algorithm"] == "ecdsa-p256-sha256"
    try:
        cert.public_key().verify(base64.b64decode(entry["signature"]), entry["digest"].encode("ascii"),
                                 ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def recomputed_digest(entry: dict) -> str:
    return digest_of({k: entry[k] for k in DIGEST_FIELDS})


def test_a_signature_verifies_with_only_the_json_and_the_ca_certificate(engine, item):
    close_immediate_item(engine, item)
    chain = json.loads(json.dumps(signature_chain_json(engine, item)))  # as a file would carry it
    ca = ca_pem(engine)
    assert chain["ca_certificates"] == [ca] and chain["personal_problems"] == []
    assert [e["signer"]["name"] for e in chain["signatures"]] == ["李娜", "陈刚"]
    for entry in chain["signatures"]:
        assert recomputed_digest(entry) == entry["digest"]
        assert offline_check(entry, ca)
        cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == entry["signer"]["name"]

    # One character of the opinion changed, its digest honestly recomputed: the signature no longer fits.
    forged = dict(chain["signatures"][1], opinion="同意。")
    forged["digest"] = recomputed_digest(forged)
    assert not offline_check(forged, ca)
    problem = check_personal_signature(forged, [x509.load_pem_x509_certificate(ca.encode())])
    assert problem and "陈刚的个人数字签名与签字内容不符" in problem

    # A certificate from anyone but the body's CA is refused by name.
    stranger = dict(chain["signatures"][0], certificate=_self_made_certificate())
    assert "不是本单位签名证书颁发机构签发的" in check_personal_signature(
        stranger, [x509.load_pem_x509_certificate(ca.encode())])


def test_the_server_cannot_sign_without_the_persons_password(engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    with pytest.raises(WrongSigningPassword):
        sign_with(engine, item, "wrong-password-1")
    leader = user_id_of(engine, "陈刚")
    with engine.db.transaction() as session:
        user = session.get(User, leader)
        with pytest.raises(KeyLocked):
            personal_signature(engine, session, user, "not-his-password", "ab" * 32)
        row = session.execute(select(PersonalCertificate).where(PersonalCertificate.user_id == leader)).scalar_one()
        key = _unwrap(row.wrapped_key, PASSWORD, _aad(leader, row.fingerprint))
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    secret_forms = [der, base64.b64encode(der), der.hex().encode(), key.private_numbers().private_value.to_bytes(32, "big")]

    # Nowhere in the database (every row of every table) nor in the instance folder.
    with engine.db.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(text(f"SELECT * FROM {table.name}")):
                blob = repr(tuple(row)).encode()
                assert not any(s in blob for s in secret_forms[1:]), table.name
    for path in Path(engine.settings.instance_path).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secret_forms), path


def sign_with(engine, item, password):
    return complete_task(engine, task_id(engine, item, "unit_head_review"), {"decision": "approve", "opinion": "同意"},
                         user_id_of(engine, "李娜"), password)


def test_password_change_rewraps_and_admin_reset_reissues(engine, item):
    close_immediate_item(engine, item)
    leader = user_id_of(engine, "陈刚")
    with engine.db.reading() as session:
        before = session.execute(select(PersonalCertificate).where(PersonalCertificate.user_id == leader)).scalar_one()
        fp, wrapped = before.fingerprint, before.wrapped_key

    change_password(engine, leader, PASSWORD, "new-pass-2027", "new-pass-2027")
    with engine.db.reading() as session:
        after = session.execute(select(PersonalCertificate).where(PersonalCertificate.user_id == leader)).scalar_one()
        assert after.fingerprint == fp and after.wrapped_key != wrapped and after.revoked_at is None
        with pytest.raises(KeyLocked):
            _unwrap(after.wrapped_key, PASSWORD, _aad(leader, fp))
        _unwrap(after.wrapped_key, "new-pass-2027", _aad(leader, fp))

    reset_password(engine, leader, "temp-pass-2027", actor="孙浩")
    with engine.db.reading() as session:
        rows = session.execute(select(PersonalCertificate).where(PersonalCertificate.user_id == leader)
                               .order_by(PersonalCertificate.id)).scalars().all()
        assert [(r.fingerprint == fp, r.revoked_at is not None, r.revoked_reason) for r in rows] == [
            (True, True, "管理员重置密码"), (False, False, "")]
    # The signature made before still verifies and names the old certificate.
    chain = signature_chain_json(engine, item)
    leader_entry = chain["signatures"][-1]
    cert = x509.load_pem_x509_certificate(leader_entry["certificate"].encode())
    assert cert.fingerprint(hashes.SHA256()).hex() == fp and chain["personal_problems"] == []


def _self_made_certificate() -> str:
    from engine.closure.certificates import self_signed
    cert, _ = self_signed("冒名单位")
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_second_machine_without_the_authority_refuses_to_make_its_own(engine, item, tmp_path):
    """Two machines serve one database: the one whose instance folder lacks the CA must not quietly make a
    second CA (its certificates would not verify against the first's); it says to copy the folder."""
    import shutil
    from dataclasses import replace

    from engine import Engine
    from engine.closure.authority import authority_dir
    from engine.errors import Conflict
    from engine.people.directory import add_user

    assert authority_dir(engine).is_dir()  # the first machine issued the item's people their keys
    second = Engine(replace(engine.settings, instance_path=tmp_path / "second"))
    try:
        with pytest.raises(Conflict, match="instance/authority"):
            add_user(second, "新同事", "财务科", ["责任人"], PASSWORD)
        with second.db.reading() as session:
            assert session.execute(select(User.id).where(User.name == "新同事")).first() is None  # nothing half-made
        shutil.copytree(authority_dir(engine), authority_dir(second))
        add_user(second, "新同事", "财务科", ["责任人"], PASSWORD)
        assert ca_pem(second) == ca_pem(engine)
    finally:
        second.close()
