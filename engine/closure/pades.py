"""PAdES signatures on PDF bytes (pyHanko): sign with the body's certificate, and check a signature —
intact, cryptographically valid, covering the whole file, made by a certificate we trust. Knows
nothing of items or the database."""
from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from engine.closure.signing import Credentials


def sign_pdf(pdf: bytes, credentials: Credentials, reason: str, location: str) -> bytes:
    """Append a PAdES baseline B-B signature (certificate embedded, SubFilter ETSI.CAdES.detached)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location, name=_common_name(credentials.certificate),
    )
    signer = credentials.signer()
    return _await(lambda: signers.async_sign_pdf(writer, meta, signer=signer,
                                                 bytes_reserved=_reserved_bytes(signer))).getvalue()


def _reserved_bytes(signer) -> int:
    """Room for the signature container, in hex digits. Without it pyHanko makes a whole dry-run
    signature to measure one (~60 ms, an eighth of a closure record). With no timestamp server the
    container is the certificates plus the signature and a few hundred bytes of attributes, so
    their sizes and a generous margin bound it; too small would fail loudly, never silently."""
    certificates = [signer.signing_cert, *(signer.cert_registry or ())]
    der = sum(len(cert.dump()) for cert in certificates if cert is not None)
    return 2 * (der + 8192)


def _await(make_coroutine):
    """Run one of pyHanko's coroutines to completion from synchronous code, also when the calling
    thread already runs an event loop (pyHanko's own sync wrappers fail there)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else cert.subject.rfc4514_string()


@dataclass
class SignatureCheck:
    """What a PDF's signature says. `problems` holds the Chinese reason for each failed property."""

    parsed: bool = False
    found: bool = False
    intact: bool = False
    valid: bool = False
    whole_file: bool = False
    trusted: bool = False
    signer: x509.Certificate | None = None
    signing_time: datetime | None = None
    problems: list[str] = field(default_factory=list)
    reader: object | None = None  # the pyHanko reader, for callers that read more of the file

    @property
    def sound(self) -> bool:
        """Intact, valid and covering the whole file (who signed is a separate question)."""
        return self.found and self.intact and self.valid and self.whole_file


def _to_asn1(cert: x509.Certificate):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def check_pdf(data: bytes, trusted: list[x509.Certificate], others: list[x509.Certificate] = ()) -> SignatureCheck:
    """Check the one signature a closure record carries. The certificate's validity is judged at the
    signing time the signature states, so records stay verifiable after the certificate expires."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    check = SignatureCheck()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 — any parse failure is the file's fault
        check.problems.append("文件无法解析为 PDF：可能已损坏或被改动")
        return check
    check.parsed, check.reader = True, reader
    if not signatures:
        check.problems.append("文件中没有数字签名")
        return check
    if len(signatures) > 1:
        check.problems.append(f"文件中有 {len(signatures)} 个签名，销号单只应有本单位的一个签名（签署后被追加过签名）")
    embedded = signatures[0]
    check.found = True
    try:
        check.signing_time = embedded.self_reported_timestamp
        context = ValidationContext(
            trust_roots=[_to_asn1(c) for c in trusted], other_certs=[_to_asn1(c) for c in others],
            moment=check.signing_time, allow_fetching=False, revocation_mode="soft-fail",
        )
        # No difference analysis: a closure record admits no change at all after signing, so
        # anything but whole-file coverage fails below.
        status = _await(lambda: async_validate_pdf_signature(
            embedded, context, skip_diff=True,
            key_usage_settings=KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}),
        ))
    except Exception:  # noqa: BLE001 — a damaged signature value fails to parse
        check.problems.append("签名数据已损坏，无法校验")
        return check
    check.signer = x509.load_der_x509_certificate(status.signing_cert.dump())
    check.intact, check.valid, check.trusted = status.intact, status.valid, status.trusted
    check.whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not status.intact:
        check.problems.append("签名所覆盖的内容与签名时不同：文件在签署后被改动")
    elif not status.valid:
        check.problems.append("签名值无效：不是用签名证书的私钥对该内容签署的")
    if status.intact and not check.whole_file:
        check.problems.append("签名没有覆盖整个文件：签署后文件被追加了修改（增量更新）")
    return check
