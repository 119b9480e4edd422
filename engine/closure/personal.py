"""Checking personal signatures offline: an entry of a signature chain (the JSON export, or the record
embedded in a 销号单) carries `digest`, `signature` (base64 over the ASCII bytes of the digest),
`signature_algorithm` and `certificate` (PEM); it verifies with nothing but the body's CA
certificates — no database, no server."""
from __future__ import annotations

import base64
import binascii

from engine import crypto
from engine.closure.certificates import display_name, fingerprint

SCHEMES = ("ecdsa-p256-sha256", "rsa-pkcs1v15-sha256")


def _key_class(algorithm: str):
    return crypto.ec.EllipticCurvePublicKey if algorithm == "ecdsa-p256-sha256" else crypto.rsa.RSAPublicKey


def signer_of(entry: dict) -> str:
    signer = entry.get("signer")
    return signer.get("name", "") if isinstance(signer, dict) else str(signer or "")


def check_personal_signature(entry: dict, authorities: list[crypto.x509.Certificate]) -> str | None:
    """None when the entry's signature was made by the key of a certificate issued by one of
    `authorities`, over this entry's digest; otherwise what is wrong, in Chinese."""
    who = signer_of(entry) or "签字人"
    algorithm, pem = entry.get("signature_algorithm"), entry.get("certificate")
    if not entry.get("signature") or not pem:
        return f"{who}的签字没有个人数字签名"
    if algorithm not in SCHEMES:
        return f"{who}的签字算法「{algorithm}」不受支持"
    try:
        cert = crypto.x509.load_pem_x509_certificate(str(pem).encode("ascii"))
        raw = base64.b64decode(entry["signature"], validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return f"{who}的证书或签名格式无效"
    issuer = next((ca for ca in authorities if _issued_by(cert, ca)), None)
    if issuer is None:
        return f"{who}的证书「{display_name(cert.subject)}」不是本单位签名证书颁发机构签发的"
    key = cert.public_key()
    if not isinstance(key, _key_class(algorithm)):
        return f"{who}的证书密钥类型与签名算法「{algorithm}」不符"
    data = str(entry.get("digest", "")).encode("ascii")
    try:
        if isinstance(key, crypto.rsa.RSAPublicKey):
            key.verify(raw, data, crypto.padding.PKCS1v15(), crypto.hashes.SHA256())
        else:
            key.verify(raw, data, crypto.ec.ECDSA(crypto.hashes.SHA256()))
    except crypto.InvalidSignature:
        return f"{who}的个人数字签名与签字内容不符（证书指纹 {fingerprint(cert)[:16]}…）"
    return None


def _issued_by(cert: crypto.x509.Certificate, ca: crypto.x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (ValueError, TypeError, crypto.InvalidSignature):
        return False
