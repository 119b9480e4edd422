"""The body's signing certificate (docs/documents.md), kept in the instance folder and never in git.

Layout of `<instance>/signing/` (directory mode 0700):

    current                 the SHA-256 fingerprint of the certificate in use (replaced atomically)
    <fingerprint>/cert.pem  the certificate
    <fingerprint>/key.pem   its private key, PKCS#8 PEM without passphrase, mode 0600 (closure records
                            are signed unattended when an item closes, so the key must be usable
                            without a person typing a passphrase; the instance folder is the secret)
    <fingerprint>/chain.pem intermediate/root certificates given with `use` (optional)
    <fingerprint>/meta.json how it came here: {"source": "development"|"installed", "installed_at": …}

Replacing the certificate keeps the old one's folder without its key: documents it signed still
verify as signed by this body (an earlier certificate of ours), and nobody can sign with it again.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine import crypto
from engine.clock import CLOCK
from engine.closure.certificates import (
    display_name,
    fingerprint,
    is_self_signed,
    key_description,
    load_certificates,
    load_private_key,
    public_der,
    read_pem_file,
    self_signed,
)
from engine.errors import Conflict, InvalidInput
from engine.store import audit
from engine.store.filestore import write_atomically
from engine.store.models import Round

if TYPE_CHECKING:
    from engine.core import Engine

EXPIRY_WARNING_DAYS = 30
NOT_CONFIGURED = "尚未配置签名证书：开发环境请运行 rectify signing init，正式环境请运行 rectify signing use 证书 私钥"


class SigningUnavailable(Conflict):
    """No usable signing certificate: none configured, expired or not yet valid."""


@dataclass(frozen=True)
class Credentials:
    """The certificate in use and where its key material lies."""

    folder: Path
    certificate: crypto.x509.Certificate
    fingerprint: str
    development: bool = False

    @property
    def cert_path(self) -> Path:
        return self.folder / "cert.pem"

    @property
    def key_path(self) -> Path:
        return self.folder / "key.pem"

    @property
    def chain_path(self) -> Path | None:
        path = self.folder / "chain.pem"
        return path if path.exists() else None

    def signer(self):
        """A pyHanko signer for this certificate and key."""
        from pyhanko.sign import signers

        chain = [str(self.chain_path)] if self.chain_path else None
        signer = signers.SimpleSigner.load(str(self.key_path), str(self.cert_path), ca_chain_files=chain)
        if signer is None:
            raise SigningUnavailable(f"无法读取签名私钥或证书（{self.folder}）")
        return signer


def signing_dir(engine: Engine) -> Path:
    return engine.settings.instance_path / "signing"


def _current_folder(engine: Engine) -> Path | None:
    pointer = signing_dir(engine) / "current"
    if not pointer.exists():
        return None
    folder = signing_dir(engine) / pointer.read_text().strip()
    return folder if (folder / "cert.pem").exists() else None


def _load_folder_cert(folder: Path) -> crypto.x509.Certificate:
    return crypto.x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())


def _folder_chain(folder: Path) -> tuple[crypto.x509.Certificate, ...]:
    chain_file = folder / "chain.pem"
    return tuple(crypto.x509.load_pem_x509_certificates(chain_file.read_bytes())) if chain_file.exists() else ()


def write_folder(folder: Path, cert: crypto.x509.Certificate, key, chain: list[crypto.x509.Certificate], source: str,
                 installed_at: str) -> None:
    """Write a certificate's folder: key (0600), certificate, chain, how it came here."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    pem = crypto.serialization
    write_atomically(folder / "key.pem", key.private_bytes(
        pem.Encoding.PEM, pem.PrivateFormat.PKCS8, pem.NoEncryption()), 0o600)
    write_atomically(folder / "cert.pem", cert.public_bytes(pem.Encoding.PEM))
    if chain:
        write_atomically(folder / "chain.pem", b"".join(c.public_bytes(pem.Encoding.PEM) for c in chain))
    else:
        (folder / "chain.pem").unlink(missing_ok=True)
    write_atomically(folder / "meta.json", json.dumps({"source": source, "installed_at": installed_at}).encode("utf-8"))


def folder_credentials(folder: Path) -> Credentials:
    return Credentials(folder, _load_folder_cert(folder), folder.name, _meta(folder).get("source") == "development")


def _install(engine: Engine, cert: crypto.x509.Certificate, key, chain: list[crypto.x509.Certificate], source: str,
             actor: str | None, action: str) -> dict:
    """Write the new certificate's folder, retire the previous one (drop its key), point `current` at
    the new one, and audit it — one transaction for the audit row, files written before it commits."""
    root = signing_dir(engine)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    fp = fingerprint(cert)
    previous = _current_folder(engine)
    with engine.db.transaction() as session:
        write_folder(root / fp, cert, key, chain, source, CLOCK.now().isoformat())
        write_atomically(root / "current", fp.encode("ascii"))
        if previous is not None and previous.name != fp:
            (previous / "key.pem").unlink(missing_ok=True)
        audit.append(session, action, "certificate", fp, actor, subject=display_name(cert.subject),
                     not_after=cert.not_valid_after_utc.isoformat(),
                     replaced=previous.name if previous is not None and previous.name != fp else None)
    return certificate_info(engine)


# --- creating and installing --------------------------------------------------------------------------

def init_dev_certificate(engine: Engine, body_name: str, actor: str | None = None, replace: bool = False) -> dict:
    """Create a self-signed development certificate for the body and use it."""
    body_name = (body_name or "").strip()
    if not body_name:
        raise InvalidInput("请给出单位名称", {"body": "开发用证书以单位名称命名，如 市政工程管理处"})
    current = _current_folder(engine)
    if current is not None and not replace:
        cert = _load_folder_cert(current)
        raise Conflict(f"已配置签名证书「{display_name(cert.subject)}」（指纹 {current.name[:16]}…）；如确需替换，请加 --force")
    cert, key = self_signed(body_name)
    return _install(engine, cert, key, [], "development", actor, "signing.init")


def use_certificate(engine: Engine, cert_path: Path, key_path: Path, chain_paths: tuple[Path, ...] = (),
                    passphrase: str | None = None, actor: str | None = None) -> dict:
    """Install a real certificate and its key (and the CA chain): the key must match the certificate,
    the certificate must be valid now and allowed to sign."""
    certs = load_certificates(read_pem_file(cert_path, "证书"), cert_path, "证书")
    cert = certs[0]
    key = load_private_key(read_pem_file(key_path, "私钥"), key_path, passphrase)
    if not isinstance(key, (crypto.rsa.RSAPrivateKey, crypto.ec.EllipticCurvePrivateKey)):
        raise InvalidInput("只支持 RSA 或 EC 私钥", {"key": str(key_path)})
    if public_der(key.public_key()) != public_der(cert.public_key()):
        raise InvalidInput("私钥与证书不匹配（不是同一对密钥）", {"key": str(key_path), "cert": str(cert_path)})
    now = datetime.now(timezone.utc)
    if cert.not_valid_after_utc <= now:
        raise InvalidInput(f"证书已于 {cert.not_valid_after_utc:%Y-%m-%d} 过期", {"cert": str(cert_path)})
    if cert.not_valid_before_utc > now:
        raise InvalidInput(f"证书要到 {cert.not_valid_before_utc:%Y-%m-%d} 才生效", {"cert": str(cert_path)})
    try:
        usage = cert.extensions.get_extension_for_class(crypto.x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            raise InvalidInput("该证书的密钥用途不含数字签名，不能用于签署文件", {"cert": str(cert_path)})
    except crypto.x509.ExtensionNotFound:
        pass
    chain = certs[1:]
    for path in chain_paths:
        chain += load_certificates(read_pem_file(path, "证书链"), path, "证书链")
    return _install(engine, cert, key, chain, "installed", actor, "signing.use")


# --- reading --------------------------------------------------------------------------------------------

def credentials(engine: Engine) -> Credentials:
    """The certificate to sign with now, or SigningUnavailable saying why there is none."""
    folder = _current_folder(engine)
    if folder is None:
        raise SigningUnavailable(NOT_CONFIGURED)
    if not (folder / "key.pem").exists():
        raise SigningUnavailable(f"签名证书的私钥缺失（{folder / 'key.pem'}）")
    cert = _load_folder_cert(folder)
    now = datetime.now(timezone.utc)
    if cert.not_valid_after_utc <= now:
        raise SigningUnavailable(f"签名证书已于 {cert.not_valid_after_utc:%Y-%m-%d} 过期，请更换（rectify signing use）")
    if cert.not_valid_before_utc > now:
        raise SigningUnavailable(f"签名证书要到 {cert.not_valid_before_utc:%Y-%m-%d} 才生效")
    return folder_credentials(folder)


@dataclass(frozen=True)
class KnownCertificate:
    certificate: crypto.x509.Certificate
    fingerprint: str
    current: bool
    chain: tuple[crypto.x509.Certificate, ...] = ()


def known_certificates(engine: Engine) -> list[KnownCertificate]:
    """The certificate in use first, then earlier ones of this body (kept without their keys)."""
    root = signing_dir(engine)
    current = _current_folder(engine)
    found = []
    for folder in sorted(root.iterdir()) if root.exists() else []:
        if not (folder / "cert.pem").exists():
            continue
        found.append(KnownCertificate(_load_folder_cert(folder), folder.name, folder == current, _folder_chain(folder)))
    return sorted(found, key=lambda k: not k.current)


def _meta(folder: Path) -> dict:
    try:
        return json.loads((folder / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def certificate_info(engine: Engine) -> dict:
    """What the admin page and `rectify signing show` display, as plain values."""
    folder = _current_folder(engine)
    retired = [{"fingerprint": k.fingerprint, "subject": display_name(k.certificate.subject),
                "not_after": k.certificate.not_valid_after_utc.isoformat()}
               for k in known_certificates(engine) if not k.current]
    if folder is None:
        return {"id": None, "configured": False, "status": "未配置", "message": NOT_CONFIGURED, "retired": retired}
    cert = _load_folder_cert(folder)
    meta = _meta(folder)
    now = datetime.now(timezone.utc)
    days_left = (cert.not_valid_after_utc - now).days
    if cert.not_valid_after_utc <= now:
        status = "已过期"
    elif cert.not_valid_before_utc > now:
        status = "尚未生效"
    elif days_left <= EXPIRY_WARNING_DAYS:
        status = "即将过期"
    else:
        status = "有效"
    return {
        "id": folder.name, "configured": True, "status": status,
        "subject": display_name(cert.subject), "subject_dn": cert.subject.rfc4514_string(),
        "issuer": display_name(cert.issuer), "fingerprint": folder.name, "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(), "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": days_left, "self_signed": is_self_signed(cert),
        "development": meta.get("source") == "development", "installed_at": meta.get("installed_at"),
        "key": key_description(cert), "key_present": (folder / "key.pem").exists(),
        "chain": [display_name(c.subject) for c in _folder_chain(folder)], "retired": retired,
    }


def is_configured(engine: Engine) -> bool:
    return _current_folder(engine) is not None


def body_name_guess(engine: Engine) -> str | None:
    """The inspected body of the latest round: whose certificate a development setup wants."""
    with engine.db.reading() as session:
        return session.execute(select(Round.inspected_body).order_by(Round.id.desc()).limit(1)).scalar()
