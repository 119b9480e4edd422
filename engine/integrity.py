"""Is the history intact? `rectify audit verify` answers for someone who cannot trust the database.

Checked, in order, each failure naming the first broken record:
  1. the audit chain: every row's link (an HMAC under the audit key from the keyed row on), and the
     head's MAC — an edited, re-hashed, deleted or cut-off row shows;
  2. seals: every task record and every signature matches the digest its transaction sealed into
     the chain, and every sealed row still exists — a rewritten `completed_by`, a signature
     re-digested after its opinion was edited, a deleted row, a row slipped in behind the system's
     back all show;
  3. each item's signature chain (digests recomputed, links to the previous signature);
  4. checkpoints: each signed checkpoint an auditor kept (`rectify audit checkpoint`) is signed by
     one of this body's certificates and the chain still holds its row with the same hash — a
     database rolled back to an earlier, consistent state shows;
  5. with `files` (`--files`: it reads every stored file), every evidence file and 销号单 a row names is
     in the file store and still hashes to its name — the rows prove what was signed only while the
     files they name are those files.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import func, select

from engine.canonical import canonical_json
from engine.closure import certificates, signing
from engine.errors import NotFound
from engine.store import audit
from engine.store.models import AuditEntry, AuditHead, Document, EvidenceFile, Signature, TaskRecord
from engine.work.signoff import verify_item_chain
from engine.work.superseded import SupersededSignature, seal_superseded, superseded_digest

if TYPE_CHECKING:
    from engine.core import Engine

CHECKPOINT_FORMAT = "rectify.audit-checkpoint/1"


@dataclass
class IntegrityReport:
    ok: bool = True
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    def as_dict(self) -> dict:
        return {"id": "audit", "ok": self.ok, "rows": self.checked.get("audit_rows", 0), "checked": self.checked,
                "problems": self.problems, "reason": self.problems[0] if self.problems else ""}


def _check_seals(session, sealed: dict, report: IntegrityReport) -> None:
    tasks = sealed.get("task_records", {})
    count = 0
    for row in session.execute(select(TaskRecord).order_by(TaskRecord.id)).scalars():
        count += 1
        digest = tasks.pop(row.task_id, None)
        if digest is None:
            report.fail(f"办理记录第 {row.id} 行（问题 {row.item_id}「{row.name}」）没有封存记录：不是由系统写入的")
        elif audit.task_record_digest(row) != digest:
            report.fail(f"办理记录第 {row.id} 行（问题 {row.item_id}「{row.name}」）与封存时不同：已被改动")
    for task_id in tasks:
        report.fail(f"封存的办理记录（任务 {task_id}）已从数据库中删除")
    signatures = sealed.get("signatures", {})
    for row in session.execute(select(Signature).order_by(Signature.id)).scalars():
        digest = signatures.pop(row.task_id, None)
        if digest is None:
            report.fail(f"签字记录第 {row.id} 行（问题 {row.item_id}，{row.signer_name}）没有封存记录：不是由系统写入的")
        elif row.digest != digest:
            report.fail(f"签字记录第 {row.id} 行（问题 {row.item_id}，{row.signer_name}）的摘要与封存时不同：已被改动")
    for task_id in signatures:
        report.fail(f"封存的签字记录（任务 {task_id}）已从数据库中删除")
    report.checked["task_records"] = count
    report.checked["signatures"] = session.execute(select(func.count(Signature.id))).scalar_one()
    _check_superseded(session, sealed.get("superseded_signatures", {}), report)


def _check_superseded(session, sealed: dict, report: IntegrityReport) -> None:
    """Supersessions (退回到任意环节) are sealed like signatures: each row as written, none deleted."""
    count = 0
    for row in session.execute(select(SupersededSignature).order_by(SupersededSignature.id)).scalars():
        count += 1
        digest = sealed.pop(str(row.signature_id), None)
        if digest is None:
            report.fail(f"签字作废标记第 {row.id} 行（签字 {row.signature_id}）没有封存记录：不是由系统写入的")
        elif superseded_digest(row) != digest:
            report.fail(f"签字作废标记第 {row.id} 行（签字 {row.signature_id}）与封存时不同：已被改动")
    for signature_id in sealed:
        report.fail(f"封存的签字作废标记（签字 {signature_id}）已从数据库中删除")
    report.checked["superseded_signatures"] = count


def _check_files(engine: Engine, session, report: IntegrityReport) -> None:
    count = 0
    for label, store, table in (("佐证材料", engine.evidence.files, EvidenceFile),
                                 ("销号单", engine.closure_files, Document)):
        for sha256, item_id in session.execute(select(table.sha256, func.min(table.item_id))
                                               .group_by(table.sha256).order_by(table.sha256)):
            count += 1
            try:
                store.read(sha256, verify=True)
            except NotFound as exc:
                report.fail(f"问题 {item_id} 的{label} {sha256[:12]}…：{exc.message}")
    report.checked["files"] = count


def verify_history(engine: Engine, checkpoints: list[dict] = (), files: bool = False) -> IntegrityReport:
    report = IntegrityReport()
    with engine.db.reading() as session:
        chain = audit.verify_chain(session, engine.db.audit_key)
        report.checked["audit_rows"] = chain.rows
        if not chain.ok:
            report.fail(f"审计日志：{chain.reason}")
            return report  # the seals come from the chain: without it they prove nothing
        _check_seals(session, chain.sealed or {}, report)
        for item_id in session.execute(select(Signature.item_id).distinct().order_by(Signature.item_id)).scalars():
            check = verify_item_chain(session, item_id)
            if not check.ok:
                report.fail(f"问题 {item_id} 的签字链：{check.problem}")
        for checkpoint in checkpoints:
            problem = _checkpoint_problem(engine, session, checkpoint)
            if problem:
                report.fail(problem)
        report.checked["checkpoints"] = len(checkpoints)
        if files:
            _check_files(engine, session, report)
    return report


def key_history(engine: Engine) -> bool:
    """After an upgrade: start the keyed chain now if it has not started, sealing the records written
    before (from then on they are protected). True if it did."""
    with engine.db.transaction() as session:
        head = session.get(AuditHead, 1)
        if head is not None and head.keyed_from is not None:
            return False
        for row in session.execute(select(TaskRecord)).scalars():
            audit.seal(session, "task_records", row.task_id, audit.task_record_digest(row))
        for row in session.execute(select(Signature)).scalars():
            audit.seal(session, "signatures", row.task_id, row.digest)
        seal_superseded(session, session.execute(select(SupersededSignature)).scalars().all())
        audit.append(session, "audit.keyed", "audit", "*", "init-db")
        return True


def _sign(key, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise ValueError("签名证书的密钥类型不受支持（需为 ECDSA 或 RSA）")


def checkpoint(engine: Engine) -> dict:
    """The chain's head now, signed with the body's certificate: a file an auditor keeps elsewhere."""
    credentials = signing.credentials(engine)
    key = serialization.load_pem_private_key(credentials.key_path.read_bytes(), password=None)
    with engine.db.reading() as session:
        head = session.get(AuditHead, 1)
        last = session.get(AuditEntry, head.count) if head.count else None
        body = {"format": CHECKPOINT_FORMAT, "rows": head.count, "last_hash": head.last_hash,
                "last_at": last.at.isoformat() if last else None, "made_at": engine.clock.now().isoformat()}
    return body | {
        "signature": base64.b64encode(_sign(key, canonical_json(body).encode("utf-8"))).decode("ascii"),
        "certificate": credentials.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _checkpoint_problem(engine: Engine, session, checkpoint: dict) -> str | None:
    label = f"检查点（{checkpoint.get('made_at', '?')}，第 {checkpoint.get('rows', '?')} 行）"
    try:
        body = {k: checkpoint[k] for k in ("format", "rows", "last_hash", "last_at", "made_at")}
        cert = x509.load_pem_x509_certificate(checkpoint["certificate"].encode("ascii"))
        signature = base64.b64decode(checkpoint["signature"])
    except (KeyError, ValueError, TypeError):
        return f"{label}：文件格式不对，无法读取"
    if body["format"] != CHECKPOINT_FORMAT:
        return f"{label}：格式未知（{body['format']}）"
    ours = {k.fingerprint for k in signing.known_certificates(engine)}
    if certificates.fingerprint(cert) not in ours:
        return f"{label}：不是用本单位的签名证书签署的"
    data, public = canonical_json(body).encode("utf-8"), cert.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return f"{label}：签名不符，检查点文件被改动过"
    row = session.get(AuditEntry, int(body["rows"])) if body["rows"] else None
    if body["rows"] and (row is None or row.hash != body["last_hash"]):
        return f"{label}：审计日志已不含检查点时的第 {body['rows']} 行（被删除、改动或整体回退）"
    return None


def read_checkpoint(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"))
