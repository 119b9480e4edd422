"""The body's signing authority (签名证书颁发机构, CA): it issues each signer's personal certificate, and
every personal signature is verified against it (docs/documents.md, personal signatures).

Layout of `<instance>/authority/` (mode 0700), like `signing/`: `current` names the fingerprint in
use; `<fingerprint>/cert.pem`, `key.pem` (0600), `chain.pem` (when the CA is itself issued by a
higher one), `meta.json`. Replacing the CA keeps the old certificate without its key, so
certificates it issued (and signatures made with them) still verify. The CA key signs only
certificates, never documents or sign-offs: a person's signature needs that person's password.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine import crypto
from engine.clock import CLOCK
from engine.closure.certificates import (
    display_name,
    fingerprint,
    key_usage,
    load_certificates,
    load_private_key,
    name_part,
    public_der,
    read_pem_file,
    self_signed,
)
from engine.closure.signing import body_name_guess, write_folder
from engine.errors import Conflict, InvalidInput
from engine.store import audit
from engine.store.filestore import write_atomically
from engine.store.models import AuditEntry

if TYPE_CHECKING:
    from engine.core import Engine

PERSONAL_VALIDITY = timedelta(days=1825)


def authority_dir(engine: Engine) -> Path:
    return engine.settings.instance_path / "authority"


def _current(engine: Engine) -> Path | None:
    pointer = authority_dir(engine) / "current"
    if not pointer.exists():
        return None
    folder = authority_dir(engine) / pointer.read_text().strip()
    return folder if (folder / "key.pem").exists() else None


def ca_certificates(engine: Engine) -> list[crypto.x509.Certificate]:
    """Every CA certificate of this body, the one in use first (for verifying personal certificates)."""
    root, current = authority_dir(engine), _current(engine)
    folders = sorted((f for f in root.iterdir() if (f / "cert.pem").exists()), key=lambda f: f != current) \
        if root.exists() else []
    return [crypto.x509.load_pem_x509_certificate((f / "cert.pem").read_bytes()) for f in folders]


def ca_pem(engine: Engine) -> str:
    """The CA certificate in use, as PEM (`rectify signing show --ca`); created on first use."""
    cert, _ = authority(engine)
    return cert.public_bytes(crypto.serialization.Encoding.PEM).decode("ascii")


def authority(engine: Engine, session=None) -> tuple[crypto.x509.Certificate, object]:
    """The CA certificate and key in use; a new self-signed CA named after the body when there is none
    (audited in `session` when the caller holds one, so that nothing waits on its own transaction)."""
    folder = _current(engine)
    if folder is None:
        _refuse_a_second_authority(engine, session)
        return _install(engine, *self_signed(body_name_guess(engine) or "本单位", authority=True), [], "generated", None,
                        session)
    cert = crypto.x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
    key = crypto.serialization.load_pem_private_key((folder / "key.pem").read_bytes(), None)
    return cert, key


def _refuse_a_second_authority(engine: Engine, session) -> None:
    """A machine whose instance folder lacks the CA, in a deployment that has one (another machine made or
    installed it), must not quietly make its own: certificates it issued would not verify on the others."""
    query = select(AuditEntry.id).where(AuditEntry.action == "authority.install").limit(1)
    if session is not None:
        found = session.execute(query).first()
    else:
        with engine.db.reading() as reading:
            found = reading.execute(query).first()
    if found is not None:
        raise Conflict(f"本机的实例目录中没有签名证书颁发机构（{authority_dir(engine)}），但本系统已有颁发机构："
                          "请从第一台机器复制 instance/authority 目录到本机（见 README 的部署一节），"
                          "或用 rectify signing use-ca 安装同一颁发机构")


def use_authority(engine: Engine, cert_path: Path, key_path: Path, chain_paths: tuple[Path, ...] = (),
                  passphrase: str | None = None, actor: str | None = None) -> dict:
    """Install the body's own CA (issued by a higher authority, or its own root): it must be a CA allowed
    to sign certificates, valid now, and its key must match."""
    certs = load_certificates(read_pem_file(cert_path, "证书"), cert_path, "证书")
    key = load_private_key(read_pem_file(key_path, "私钥"), key_path, passphrase)
    cert = certs[0]
    chain = certs[1:] + [c for p in chain_paths for c in load_certificates(read_pem_file(p, "证书链"), p, "证书链")]
    if public_der(cert.public_key()) != public_der(key.public_key()):
        raise InvalidInput("私钥与证书不匹配", {"key": str(key_path)})
    try:
        constraints = cert.extensions.get_extension_for_class(crypto.x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(crypto.x509.KeyUsage).value
        can_issue = constraints.ca and usage.key_cert_sign
    except crypto.x509.ExtensionNotFound:
        can_issue = False
    if not can_issue:
        raise InvalidInput("证书不是可签发证书的 CA 证书（需要 BasicConstraints CA 和 keyCertSign）", {"cert": str(cert_path)})
    now = datetime.now(timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise InvalidInput("CA 证书不在有效期内", {"cert": str(cert_path)})
    _install(engine, cert, key, chain, "installed", actor)
    return authority_info(engine)


def authority_info(engine: Engine) -> dict:
    cert, _ = authority(engine)
    return {"subject": display_name(cert.subject), "fingerprint": fingerprint(cert),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "pem": cert.public_bytes(crypto.serialization.Encoding.PEM).decode("ascii")}


def issue_personal_certificate(engine: Engine, session, public_key, name: str, unit: str,
                               user_id: int) -> crypto.x509.Certificate:
    """A person's signing certificate (CN = name, O = body, OU = unit), issued by the body's CA."""
    ca_cert, ca_key = authority(engine, session)
    body = display_name(ca_cert.subject)
    subject = crypto.x509.Name([
        crypto.x509.NameAttribute(crypto.NameOID.COMMON_NAME, name),
        crypto.x509.NameAttribute(crypto.NameOID.ORGANIZATIONAL_UNIT_NAME, unit or "—"),
        crypto.x509.NameAttribute(crypto.NameOID.ORGANIZATION_NAME,
                                  name_part(ca_cert.subject, crypto.NameOID.ORGANIZATION_NAME) or body),
        crypto.x509.NameAttribute(crypto.NameOID.USER_ID, str(user_id)),
    ])
    now = datetime.now(timezone.utc).replace(microsecond=0)  # real time: verifiers check against theirs
    return (
        crypto.x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(public_key)
        .serial_number(crypto.x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + PERSONAL_VALIDITY)
        .add_extension(crypto.x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(), critical=True)
        .add_extension(crypto.x509.ExtendedKeyUsage([crypto.ExtendedKeyUsageOID.CLIENT_AUTH,
                                                      crypto.ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(crypto.x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(crypto.x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, crypto.hashes.SHA256())
    )


def _install(engine: Engine, cert, key, chain, source: str, actor: str | None, session=None):
    """Write the CA's folder, retire the previous one (drop its key), point `current` at it, audit it."""
    if session is None:
        with engine.db.transaction() as own:
            return _install(engine, cert, key, chain, source, actor, own)
    root = authority_dir(engine)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    fp, previous = fingerprint(cert), _current(engine)
    write_folder(root / fp, cert, key, chain, source, CLOCK.now().isoformat())
    write_atomically(root / "current", fp.encode("ascii"))
    if previous is not None and previous.name != fp:
        (previous / "key.pem").unlink(missing_ok=True)
    audit.append(session, "authority.install", "certificate", fp, actor, subject=display_name(cert.subject),
                 source=source, replaced=previous.name if previous is not None and previous.name != fp else None)
    return cert, key
