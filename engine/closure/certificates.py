"""X.509 certificates and keys as the signing code needs them: fingerprints and display names,
reading PEM files a person hands us (with messages naming the file), and the self-signed
development certificate."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine import crypto
from engine.errors import InvalidInput

DEV_VALIDITY = timedelta(days=730)


def fingerprint(cert: crypto.x509.Certificate) -> str:
    return cert.fingerprint(crypto.hashes.SHA256()).hex()


def name_part(name: crypto.x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def display_name(name: crypto.x509.Name) -> str:
    """「通用名（单位）」, the way people name a certificate's holder."""
    cn, org = name_part(name, crypto.NameOID.COMMON_NAME), name_part(name, crypto.NameOID.ORGANIZATION_NAME)
    if cn and org and org not in cn:
        return f"{cn}（{org}）"
    return cn or org or name.rfc4514_string()


def is_self_signed(cert: crypto.x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except Exception:  # noqa: BLE001 — any failure means "not self-signed"
        return False


def key_description(cert: crypto.x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, crypto.rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, crypto.ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


# --- the folder -------------------------------------------------------------------------------------

def key_usage(authority: bool = False):
    """What a certificate's key may do: a signer's signs documents or sign-offs, nothing else; a CA's signs
    certificates (and revocation lists) only."""
    return crypto.x509.KeyUsage(
        digital_signature=not authority, content_commitment=not authority, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=authority, crl_sign=authority,
        encipher_only=False, decipher_only=False)


CA_VALIDITY = timedelta(days=3650)


def self_signed(body_name: str, authority: bool = False) -> tuple[crypto.x509.Certificate,
                                                                  crypto.ec.EllipticCurvePrivateKey]:
    """A self-signed EC P-256 certificate for the body: its development signing certificate (two
    years), or with `authority` the CA that issues its signers' personal certificates (ten years)."""
    key = crypto.ec.generate_private_key(crypto.ec.SECP256R1())
    name = crypto.x509.Name([
        crypto.x509.NameAttribute(crypto.NameOID.COMMON_NAME, f"{body_name}{'签名证书颁发机构' if authority else '开发用签名证书'}"),
        crypto.x509.NameAttribute(crypto.NameOID.ORGANIZATION_NAME, body_name),
        crypto.x509.NameAttribute(crypto.NameOID.COUNTRY_NAME, "CN"),
    ])
    # Real time, not the engine clock: validity is checked by PDF readers against their own clocks.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cert = (
        crypto.x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(crypto.x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + (CA_VALIDITY if authority else DEV_VALIDITY))
        .add_extension(crypto.x509.BasicConstraints(ca=authority, path_length=0 if authority else None), critical=True)
        .add_extension(key_usage(authority), critical=True)
        .add_extension(crypto.x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, crypto.hashes.SHA256())
    )
    return cert, key


def read_pem_file(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取{what}文件", {what: f"{path}：{exc.strerror or exc}"}) from None


def load_certificates(data: bytes, path: Path, what: str) -> list[crypto.x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return crypto.x509.load_pem_x509_certificates(data)
        return [crypto.x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InvalidInput(f"{what}文件不是有效的 X.509 证书（PEM 或 DER）", {what: str(path)}) from None


def load_private_key(data: bytes, path: Path, passphrase: str | None):
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        if b"-----BEGIN" in data:
            return crypto.serialization.load_pem_private_key(data, password)
        return crypto.serialization.load_der_private_key(data, password)
    except TypeError:  # encrypted without passphrase, or a passphrase for an unencrypted key
        if password is None:
            raise InvalidInput("私钥已加密，请用 --passphrase 给出口令", {"key": str(path)}) from None
        raise InvalidInput("私钥未加密，无需口令；请去掉 --passphrase", {"key": str(path)}) from None
    except ValueError:
        if password is not None:
            raise InvalidInput("私钥口令不正确，或文件不是有效的私钥", {"key": str(path)}) from None
        raise InvalidInput("私钥文件不是有效的私钥（PEM 或 DER）", {"key": str(path)}) from None


def public_der(key) -> bytes:
    return key.public_bytes(crypto.serialization.Encoding.DER, crypto.serialization.PublicFormat.SubjectPublicKeyInfo)
