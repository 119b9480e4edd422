"""个人签名密钥: each signer's own key pair and certificate (issued by the body's CA,
engine/closure/authority.py). The private key is kept only wrapped: AES-256-GCM under a key derived
from the person's password with Argon2id, so neither a copy of the database nor the server at rest can
sign for them. A sign-off's password confirmation unwraps it for that one signature.

A password change re-wraps the key; an administrator's reset cannot (it does not know the old
password), so it revokes the certificate and issues a new one under the temporary password.
Signatures made before stay valid: each names the certificate that made it.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from argon2 import Type, profiles
from argon2.low_level import hash_secret_raw
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import crypto
from engine.closure.authority import issue_personal_certificate
from engine.closure.certificates import fingerprint
from engine.errors import InvalidInput
from engine.store import audit
from engine.store.models import Base, User

if TYPE_CHECKING:
    from engine.core import Engine

ECDSA_P256, RSA_2048 = "ecdsa-p256-sha256", "rsa-pkcs1v15-sha256"
ALGORITHMS = (ECDSA_P256, RSA_2048)
# Argon2id for the key that wraps a signing key: t=3, 32 MiB, p=2 — above OWASP's minimum (19 MiB,
# t=2) and within what a sign-off may add (benchmark 8: ≤ 150 ms on two shared cores, where RFC 9106's
# 64 MiB/p=4 profile took ~200 ms). The test suite's cheap profile only under
# RECTIFY_PASSWORD_PROFILE=test. The parameters are stored with each wrapped key.
KEY_KDF = replace(profiles.RFC_9106_LOW_MEMORY, time_cost=3, memory_cost=32 * 1024, parallelism=2)
_KDF = profiles.CHEAPEST if os.environ.get("RECTIFY_PASSWORD_PROFILE") == "test" else KEY_KDF


class PersonalCertificate(Base):
    """A signer's certificate and their private key wrapped under their password. The active one has no
    `revoked_at`; revoked ones stay, for the signatures they made."""

    __tablename__ = "personal_certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(30))
    wrapped_key: Mapped[str] = mapped_column(Text)  # JSON: kdf parameters, salt, nonce, ciphertext
    issued_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]
    revoked_reason: Mapped[str] = mapped_column(String(200), default="")


class KeyLocked(InvalidInput):
    """The password does not unwrap the signing key."""


def active_certificate(session: Session, user_id: int) -> PersonalCertificate | None:
    return session.execute(select(PersonalCertificate).where(
        PersonalCertificate.user_id == user_id, PersonalCertificate.revoked_at.is_(None))).scalars().first()


def issue_key(engine: Engine, session: Session, user: User, password: str, actor: str | None = None,
              reason: str = "") -> PersonalCertificate:
    """A new key pair and certificate for `user`, wrapped under `password`; the previous certificate,
    if any, is revoked (`reason`)."""
    now = engine.clock.now()
    previous = active_certificate(session, user.id)
    if previous is not None:
        previous.revoked_at, previous.revoked_reason = now, reason or "重新签发"
    algorithm = engine.settings.signature_algorithm
    key = (crypto.rsa.generate_private_key(65537, 2048) if algorithm == RSA_2048
           else crypto.ec.generate_private_key(crypto.ec.SECP256R1()))
    cert = issue_personal_certificate(engine, session, key.public_key(), user.name, user.unit.name, user.id)
    fp = fingerprint(cert)
    row = PersonalCertificate(
        user_id=user.id, fingerprint=fp,
        certificate_pem=cert.public_bytes(crypto.serialization.Encoding.PEM).decode("ascii"),
        algorithm=algorithm, wrapped_key=_wrap(key, password, _aad(user.id, fp)), issued_at=now, revoked_at=None,
        revoked_reason="")
    session.add(row)
    session.flush()
    audit.append(session, "signing_key.issue", "user", user.id, actor, name=user.name, fingerprint=fp,
                 algorithm=algorithm, revoked=previous.fingerprint if previous is not None else None)
    return row


def rewrap_key(engine: Engine, session: Session, user: User, old_password: str, new_password: str) -> None:
    """After the person changed their password: the same key, wrapped under the new one (a key the old
    password does not open, or none at all, is replaced by a new one)."""
    row = active_certificate(session, user.id)
    try:
        key = _unwrap(row.wrapped_key, old_password, _aad(user.id, row.fingerprint)) if row is not None else None
    except KeyLocked:
        key = None
    if key is None:
        issue_key(engine, session, user, new_password, user.name, "密码变更时原密钥无法解开")
        return
    row.wrapped_key = _wrap(key, new_password, _aad(user.id, row.fingerprint))
    audit.append(session, "signing_key.rewrap", "user", user.id, user.name, name=user.name, fingerprint=row.fingerprint)


def personal_signature(engine: Engine, session: Session, user: User, password: str,
                       digest: str) -> tuple[PersonalCertificate, str]:
    """The signer's signature (base64) over the ASCII bytes of `digest`, with the certificate that made
    it. Someone who signs for the first time since keys exist gets theirs now, under this password."""
    row = active_certificate(session, user.id)
    if row is None:
        row = issue_key(engine, session, user, password, user.name, "")
    key = _unwrap(row.wrapped_key, password, _aad(user.id, row.fingerprint))
    data = digest.encode("ascii")
    if isinstance(key, crypto.rsa.RSAPrivateKey):
        raw = key.sign(data, crypto.padding.PKCS1v15(), crypto.hashes.SHA256())
    else:
        raw = key.sign(data, crypto.ec.ECDSA(crypto.hashes.SHA256()))
    return row, base64.b64encode(raw).decode("ascii")


def certificate_pems(session: Session, ids) -> dict[int, str]:
    """Certificates (PEM) by id, for the signatures that name them."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(PersonalCertificate.id, PersonalCertificate.certificate_pem)
                                .where(PersonalCertificate.id.in_(wanted))).all())


def certificates_of(session: Session, user_id: int) -> list[dict]:
    rows = session.execute(select(PersonalCertificate).where(PersonalCertificate.user_id == user_id)
                           .order_by(PersonalCertificate.id.desc())).scalars()
    return [{"fingerprint": r.fingerprint, "algorithm": r.algorithm, "issued_at": r.issued_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None, "revoked_reason": r.revoked_reason}
            for r in rows]


def _aad(user_id: int, fp: str) -> bytes:
    """Binds a wrapped key to its owner and certificate: it cannot be moved to another person's row."""
    return f"rectify-signing-key:{user_id}:{fp}".encode("ascii")


def _derive(password: str, salt: bytes, kdf: dict) -> bytes:
    return hash_secret_raw(password.encode("utf-8"), salt, time_cost=kdf["t"], memory_cost=kdf["m"],
                           parallelism=kdf["p"], hash_len=32, type=Type.ID)


def _wrap(key, password: str, aad: bytes, profile=None) -> str:
    profile = profile or _KDF
    kdf = {"name": "argon2id", "t": profile.time_cost, "m": profile.memory_cost, "p": profile.parallelism}
    salt, nonce = os.urandom(16), os.urandom(12)
    plain = key.private_bytes(crypto.serialization.Encoding.DER, crypto.serialization.PrivateFormat.PKCS8,
                              crypto.serialization.NoEncryption())
    sealed = crypto.AESGCM(_derive(password, salt, kdf)).encrypt(nonce, plain, aad)
    b64 = base64.b64encode
    return json.dumps({"kdf": kdf, "cipher": "aes-256-gcm", "salt": b64(salt).decode(), "nonce": b64(nonce).decode(),
                       "ciphertext": b64(sealed).decode()})


def _unwrap(wrapped: str, password: str, aad: bytes):
    box = json.loads(wrapped)
    b64d = base64.b64decode
    try:
        plain = crypto.AESGCM(_derive(password or "", b64d(box["salt"]), box["kdf"])).decrypt(
            b64d(box["nonce"]), b64d(box["ciphertext"]), aad)
    except crypto.InvalidTag:
        raise KeyLocked("签字确认失败：密码无法解开您的签名密钥", {"password": "密码不正确"}) from None
    return crypto.serialization.load_der_private_key(plain, None)
