"""X.509 certificates and keys as the signing code needs them: fingerprints and display names,
reading PEM files a person hands us (with messages naming the file), and the self-signed
development certificate."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from engine.errors import InvalidInput

DEV_VALIDITY = timedelta(days=730)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def name_part(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def display_name(name: x509.Name) -> str:
    """「通用名（单位）」, the way people name a certificate's holder."""
    cn, org = name_part(name, NameOID.COMMON_NAME), name_part(name, NameOID.ORGANIZATION_NAME)
    if cn and org and org not in cn:
        return f"{cn}（{org}）"
    return cn or org or name.rfc4514_string()


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except Exception:  # noqa: BLE001 — any failure means "not self-signed"
        return False


def key_description(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


# --- the folder -------------------------------------------------------------------------------------

SIGNING_USAGE = x509.KeyUsage(  # a certificate that signs documents or sign-offs, nothing else
    digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
)
AUTHORITY_USAGE = x509.KeyUsage(  # a CA: signs certificates (and revocation lists) only
    digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
)
CA_VALIDITY = timedelta(days=3650)


def self_signed(body_name: str, authority: bool = False) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed EC P-256 certificate for the body: its development signing certificate (two
    years), or with `authority` the CA that issues its signers' personal certificates (ten years)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{body_name}{'签名证书颁发机构' if authority else '开发用签名证书'}"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, body_name),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    ])
    # Real time, not the engine clock: validity is checked by PDF readers against their own clocks.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + (CA_VALIDITY if authority else DEV_VALIDITY))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=0 if authority else None), critical=True)
        .add_extension(AUTHORITY_USAGE if authority else SIGNING_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def read_pem_file(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取{what}文件", {what: f"{path}：{exc.strerror or exc}"}) from None


def load_certificates(data: bytes, path: Path, what: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InvalidInput(f"{what}文件不是有效的 X.509 证书（PEM 或 DER）", {what: str(path)}) from None


def load_private_key(data: bytes, path: Path, passphrase: str | None):
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        if b"-----BEGIN" in data:
            return serialization.load_pem_private_key(data, password)
        return serialization.load_der_private_key(data, password)
    except TypeError:  # encrypted without passphrase, or a passphrase for an unencrypted key
        if password is None:
            raise InvalidInput("私钥已加密，请用 --passphrase 给出口令", {"key": str(path)}) from None
        raise InvalidInput("私钥未加密，无需口令；请去掉 --passphrase", {"key": str(path)}) from None
    except ValueError:
        if password is not None:
            raise InvalidInput("私钥口令不正确，或文件不是有效的私钥", {"key": str(path)}) from None
        raise InvalidInput("私钥文件不是有效的私钥（PEM 或 DER）", {"key": str(path)}) from None


def public_der(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
