"""A closure record (plain values, see engine/closure.py) → a signed PDF: presentation values for the
template (local times, sizes), WeasyPrint, then the body's PAdES signature. No database here, so it
can be timed on its own (`render_and_sign`)."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from engine import render
from engine.closure import pades
from engine.closure.signing import Credentials, display_name

TITLE = "巡察整改问题销号单"
ATTACHMENT = "closure-record.json"  # the record and its digest, machine-readable, inside the signed PDF


def local_time(iso: str | None, tz: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def tz_label(tz: str) -> str:
    return "北京时间" if tz in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else tz


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""  # unreachable


def view(record: dict, code: str, generated_at: str, credentials: Credentials, tz: str) -> dict:
    """The template's values: strings and lists only."""
    closed = datetime.fromisoformat(record["closed_at"]).astimezone(ZoneInfo(tz)) if record["closed_at"] else None
    return {
        "title": TITLE, "body": record["body"], "code": code, "round": record["round"], "item": record["item"],
        "work": [{**w, "at": local_time(w["at"], tz)} for w in record["work"]],
        "evidence": [{**e, "size": human_size(e["size"]), "at": local_time(e["at"], tz)[:16]} for e in record["evidence"]],
        "signatures": [{**s, "signed_at": local_time(s["signed_at"], tz),
                        "superseded_at": local_time(s["superseded"]["at"], tz) if s.get("superseded") else None}
                       for s in record["signatures"]],
        "superseded": sum(1 for s in record["signatures"] if s.get("superseded")),
        "closed_on": f"{closed.year}年{closed.month}月{closed.day}日" if closed else "（未销号）",
        "closed_at": local_time(record["closed_at"], tz),
        "generated_at": local_time(generated_at, tz), "tz_label": tz_label(tz),
        "cert": {"subject": display_name(credentials.certificate.subject), "fingerprint": credentials.fingerprint,
                 "development": credentials.development},
    }


def embedded_data(record: dict, digest: str, code: str, generated_at: str) -> dict:
    return {"verification_code": code, "generated_at": generated_at, "record_digest": digest, "record": record}


def render_and_sign(record: dict, digest: str, code: str, generated_at: str, credentials: Credentials,
                    tz: str = "Asia/Shanghai") -> bytes:
    """Render the record with the closure template and sign it: the signed PDF's bytes."""
    document = render.html("closure.html", **view(record, code, generated_at, credentials, tz))
    attachment = json.dumps(embedded_data(record, digest, code, generated_at), ensure_ascii=False, indent=1)
    unsigned = render.pdf(document, {ATTACHMENT: attachment.encode("utf-8")})
    return pades.sign_pdf(unsigned, credentials, reason=f"{TITLE}（核验码 {code}）", location=record["body"])


def sample_record(signatures: int = 5, evidence_files: int = 10, body: str = "市政工程管理处") -> dict:
    """A realistic record without a database, for benchmarks (render + sign one record) and for
    looking at the template: `render_and_sign(sample_record(), …)`."""
    people = [("审核", "李娜", "责任单位负责人", "财务科"), ("分管领导签字", "陈刚", "分管领导", "处领导班子"),
              ("主要领导签字销号", "刘洋", "主要领导", "处领导班子")]
    # The unit head returns the work until the last review, then the leaders approve and close.
    gates = [people[0]] * max(signatures - 2, 1) + people[1:][:max(signatures - 1, 0)]
    chain, prev = [], "0" * 64
    for seq, (step, signer, role, unit) in enumerate(gates[:signatures], start=1):
        rejected = seq < signatures - 2
        digest = f"{seq:02d}" + "ab" * 31
        chain.append({"seq": seq, "step": step, "signer": signer, "role": role, "unit": unit,
                      "decision": "reject" if rejected else "approve", "decision_text": "退回" if rejected else "通过",
                      "opinion": "请补充银行回单等佐证材料后重新提交。" if rejected else "同意。",
                      "signed_at": f"2026-11-{10 + seq:02d}T02:{seq:02d}:00+00:00", "digest": digest,
                      "prev_digest": prev, "superseded": None})
        prev = digest
    return {
        "format": "rectify.closure-record/1", "body": body,
        "round": {"name": f"市委第三巡察组对{body}巡察反馈", "group": "市委第三巡察组", "feedback_date": "2026-10-08"},
        "item": {"id": 1, "number": "4", "aspect": "（二）内部管理制度执行不严格", "title": "财务报销审核把关不严",
                 "description": "部分报销单据要素不全，审核流于形式。", "category": "限期整改", "unit": "财务科",
                 "person": "张伟", "leader": "陈刚", "deadline": "2026-12-31", "standard": "问题整改到位，形成佐证材料，建立长效机制。"},
        "closed_at": "2026-11-20T06:30:00+00:00",
        "work": [{"task_id": "t-1", "step": "提交完成材料", "by": "张伟", "at": "2026-11-09T03:00:00+00:00",
                  "fields": [["整改措施", "逐笔复核 2025 年以来报销单据，修订报销审核办法。"], ["整改结果", "补正单据 36 笔，追回不合规报销 2.4 万元。"],
                             ["完成日期", "2026-11-08"]]}],
        "evidence": [{"name": f"佐证材料{n}.pdf", "size": 1024 * (50 + n), "sha256": f"{n:04d}" + "cd" * 30,
                      "step": "提交完成材料", "by": "张伟", "at": "2026-11-09T03:00:00+00:00"}
                     for n in range(1, evidence_files + 1)],
        "signatures": chain,
        "bounds": {"signatures": signatures, "evidence": evidence_files, "work": ["t-1"]},
    }
