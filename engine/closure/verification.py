"""Verifying a closure record anyone hands us (`rectify pdf verify`, the public /verify page).

Five checks, each with a Chinese reason, all of which must pass:
  1. 数字签名 — the PAdES signature is intact, valid and covers the whole file (no byte changed, nothing
     appended after signing);
  2. 签名证书 — it was made by this body's signing certificate (the one in use, or an earlier one of
     ours kept after replacement);
  3. 登记 — the file is, byte for byte, a record this system made (a `documents` row by SHA-256);
  4. 与数据库一致 — what the record proves (signatures, evidence, work), recomputed from the
     database today over the same rows, is the same, and the item's signature chain is unbroken.
     The record is the snapshot of what was true when it was signed: later edits people may rightly
     make (the round's 巡察组, a 方面 title, a reopening) are listed as `later_changes`, not failures;
  5. 个人签名 — each sign-off in the record carries its signer's own signature, made with the key of a
     certificate the body's CA issued (engine/closure/personal.py; checked from the file alone).

A file that is not byte for byte a record this system made is parsed in a child process with
bounded memory and time (engine/closure/untrusted.py): a crafted PDF cannot exhaust a web worker.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.closure import certificates, signing
from engine.closure.authority import ca_certificates
from engine.closure.content import differences, record_data, record_digest
from engine.closure.pades import SignatureCheck, check_pdf
from engine.closure.personal import check_personal_signature, signer_of
from engine.closure.records import document_view
from engine.closure.untrusted import check_untrusted_pdf, embedded_record
from engine.errors import NotFound
from engine.store.models import Document, Item
from engine.work.signoff import verify_item_chain

if TYPE_CHECKING:
    from engine.core import Engine

SIGNATURE, CERTIFICATE, REGISTERED, MATCHES, PERSONAL = "数字签名", "签名证书", "登记", "与数据库一致", "个人签名"


@dataclass
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class VerificationReport:
    ok: bool
    checks: list[Check]
    sha256: str
    size: int
    signer: str | None = None
    signer_fingerprint: str | None = None
    signing_time: str | None = None  # ISO, as the signature states it
    signing_time_local: str | None = None  # the same in the engine's time zone (北京时间)
    verification_code: str | None = None
    document: dict | None = None
    item: dict | None = None  # {id, number, title, round, status}
    summary: str = ""
    matched: list[str] = field(default_factory=list)  # what matched, for people
    later_changes: list[str] = field(default_factory=list)  # rightful edits since signing, for information

    def as_dict(self) -> dict:
        value = asdict(self)
        value["id"] = self.verification_code or self.sha256
        return value


def _certificate_check(known_list: list[signing.KnownCertificate], check: SignatureCheck) -> tuple[Check, str | None]:
    if check.signer is None:
        return Check(CERTIFICATE, False, "无法确定签署者（签名缺失或无法读取）"), None
    fp = certificates.fingerprint(check.signer)
    name = certificates.display_name(check.signer.subject)
    known = {k.fingerprint: k for k in known_list}
    if not known:
        return Check(CERTIFICATE, False, f"本系统尚未配置签名证书，无法确认签署者「{name}」"), fp
    mine = known.get(fp)
    if mine is None:
        return Check(CERTIFICATE, False, f"签署者「{name}」（指纹 {fp[:16]}…）不是本单位配置的签名证书"), fp
    cert, when = mine.certificate, check.signing_time
    if when is not None and not (cert.not_valid_before_utc <= when <= cert.not_valid_after_utc):
        return Check(CERTIFICATE, False, f"签署时间 {when:%Y-%m-%d} 不在证书「{name}」的有效期内"), fp
    if check.sound and not check.trusted:  # pyHanko judges trust only for an intact signature
        return Check(CERTIFICATE, False, f"签署证书「{name}」的证书链无法验证"), fp
    which = "本单位当前的签名证书" if mine.current else "本单位此前使用的签名证书（已更换）"
    return Check(CERTIFICATE, True, f"由{which}「{name}」签署（指纹 {fp[:16]}…）"), fp


def verify_pdf(engine: Engine, data: bytes) -> VerificationReport:
    sha = hashlib.sha256(data).hexdigest()
    known = signing.known_certificates(engine)
    trusted, others = [k.certificate for k in known], [c for k in known for c in k.chain]
    with engine.db.reading() as session:
        ours = session.execute(select(Document.id).where(Document.sha256 == sha)).first() is not None
    if ours:  # a file this system made, byte for byte: safe to read here
        check = check_pdf(data, trusted, others)
        embedded = embedded_record(check) if check.parsed else None
    else:
        check, embedded = check_untrusted_pdf(data, trusted, others)
    report = VerificationReport(ok=False, checks=[], sha256=sha, size=len(data))
    tz = ZoneInfo(engine.settings.timezone)
    if check.signing_time is not None:
        report.signing_time = check.signing_time.isoformat()
        report.signing_time_local = check.signing_time.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if check.signer is not None:
        report.signer = certificates.display_name(check.signer.subject)

    report.checks.append(Check(SIGNATURE, check.sound, "签名完好，覆盖整个文件，签署后未被改动" if check.sound
                               else "；".join(check.problems) or "签名无效"))
    cert_check, report.signer_fingerprint = _certificate_check(known, check)
    report.checks.append(cert_check)

    with engine.db.reading() as session:
        doc = session.execute(select(Document).where(Document.sha256 == sha).order_by(Document.id)).scalars().first()
        if doc is not None:
            report.checks.append(Check(REGISTERED, True, f"与本系统登记的销号单（核验码 {doc.verification_code}）逐字节一致"))
        else:
            code = (embedded or {}).get("verification_code")
            registered = session.execute(select(Document).where(Document.verification_code == code)).scalars().first() if code else None
            if registered is not None:
                report.checks.append(Check(REGISTERED, False, f"文件与登记的销号单（核验码 {code}）不一致：内容已被改动（SHA-256 不同）"))
                doc = registered
            else:
                report.checks.append(Check(REGISTERED, False, "本系统中没有这份销号单的登记"))
        if doc is not None:
            report.verification_code = doc.verification_code
            report.document = document_view(doc)
            item = session.get(Item, doc.item_id)
            if item is not None:
                report.item = {"id": item.id, "number": item.number, "title": item.title, "round": item.round.name,
                               "status": item.status}
        matches, report.later_changes = _matches(engine, session, doc, embedded, registered_exactly=report.checks[-1].ok)
        report.checks.append(matches)
    report.checks.append(personal_check(embedded, ca_certificates(engine)))
    report.ok = all(c.ok for c in report.checks)
    report.matched = [c.message for c in report.checks if c.ok]
    report.summary = ("核验通过：销号单真实、完整，与数据库记录一致" if report.ok
                      else "核验未通过：" + "；".join(f"{c.name}——{c.message}" for c in report.checks if not c.ok))
    return report


def personal_check(embedded: dict | None, authorities) -> Check:
    """Every sign-off in the record that carries its signer's own signature verifies against the body's
    CA; any that fails is named. Sign-offs made before personal keys existed are counted, not failed."""
    record = (embedded or {}).get("record")
    if not isinstance(record, dict):
        return Check(PERSONAL, False, "未核对：文件中没有可读取的签字记录")
    entries = [e for e in record.get("signatures") or [] if isinstance(e, dict)]
    signed = [e for e in entries if e.get("signature")]
    problems = [p for e in signed if (p := check_personal_signature(e, authorities))]
    if problems:
        return Check(PERSONAL, False, "；".join(problems))
    older = len(entries) - len(signed)
    note = f"；另有 {older} 个签字早于个人签名密钥启用，无个人签名" if older else ""
    names = "、".join(dict.fromkeys(signer_of(e) for e in signed))
    return Check(PERSONAL, True, (f"{len(signed)} 个签字均由签字人本人的密钥签署（{names}），证书由本单位签名证书颁发机构签发"
                                  if signed else "销号单中没有个人签名") + note)


def _matches(engine: Engine, session, doc: Document | None, embedded: dict | None,
             registered_exactly: bool) -> tuple[Check, list[str]]:
    if doc is None or not registered_exactly:
        return Check(MATCHES, False, "未核对：文件不是本系统登记的销号单"), []
    if not embedded or not isinstance(embedded.get("record"), dict):
        return Check(MATCHES, False, "文件中没有可读取的销号单数据"), []
    shown = embedded["record"]
    if record_digest(shown) != doc.record_digest or embedded.get("record_digest") != doc.record_digest:
        return Check(MATCHES, False, "文件所载记录的摘要与登记的摘要不符"), []
    item = session.get(Item, doc.item_id)
    if item is None:
        return Check(MATCHES, False, f"数据库中找不到问题 {doc.item_id}"), []
    try:
        current = record_data(engine, session, item, bounds=shown.get("bounds") or {})
    except NotFound as exc:
        return Check(MATCHES, False, exc.message), []
    mismatches, later = differences(shown, current)
    chain = verify_item_chain(session, item.id)
    if not chain.ok:
        mismatches.append(f"数据库中的签字链已断裂：{chain.problem}")
    if mismatches:
        return Check(MATCHES, False, "；".join(mismatches)), later
    return Check(MATCHES, True, f"签字 {len(shown['signatures'])} 个、佐证材料 {len(shown['evidence'])} 份、"
                                f"整改情况均与数据库一致；签字链完整"), later
