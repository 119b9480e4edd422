"""Settings of one engine: where the database and files live, its time zone and its delivery channels."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    workflows_path: Path = REPO_ROOT / "workflows"
    forms_path: Path = REPO_ROOT / "forms"
    timezone: str = "Asia/Shanghai"
    # Evidence uploads (佐证材料).
    max_evidence_bytes: int = 20 * 1024 * 1024
    evidence_extensions: frozenset[str] = field(default_factory=lambda: frozenset({
        "pdf", "ofd", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "wps", "txt", "zip",
    }))

    # When domain events are handled after commit (engine/outbox.py): thread, inline or deferred.
    outbox_dispatch: str = "inline"
    # Delivery of notifications (engine/notify/): e-mail off without an SMTP URL, the webhook off
    # without a URL. webhook_format: json (our payload), wecom or dingtalk (their group robots').
    smtp_url: str = ""
    mail_from: str = "rectify@localhost"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_format: str = "json"
    # Personal signing keys (engine/people/keys.py): ecdsa-p256-sha256 (default) or rsa-pkcs1v15-sha256.
    signature_algorithm: str = "ecdsa-p256-sha256"
    # Where stored files live (engine/store/backends.py): disk, database or s3; empty = database on
    # PostgreSQL (shared by every machine), disk on SQLite.
    file_store: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = ""
    s3_prefix: str = ""  # e.g. "rectify/": keys are <prefix><namespace>/<sha[:2]>/<sha>

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        instance = Path(os.environ.get("RECTIFY_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
        url = os.environ.get("RECTIFY_DATABASE_URL") or f"sqlite:///{instance / 'rectify.db'}"
        settings = cls(database_url=url, instance_path=instance)
        if os.environ.get("RECTIFY_WORKFLOWS_PATH"):
            settings = replace(settings, workflows_path=Path(os.environ["RECTIFY_WORKFLOWS_PATH"]))
        if os.environ.get("RECTIFY_FORMS_PATH"):
            settings = replace(settings, forms_path=Path(os.environ["RECTIFY_FORMS_PATH"]))
        if os.environ.get("RECTIFY_OUTBOX_DISPATCH"):
            settings = replace(settings, outbox_dispatch=os.environ["RECTIFY_OUTBOX_DISPATCH"])
        delivery = {key: os.environ[name] for key, name in (
            ("smtp_url", "RECTIFY_SMTP_URL"), ("mail_from", "RECTIFY_MAIL_FROM"), ("webhook_url", "RECTIFY_WEBHOOK_URL"),
            ("webhook_secret", "RECTIFY_WEBHOOK_SECRET"), ("webhook_format", "RECTIFY_WEBHOOK_FORMAT"),
            ("signature_algorithm", "RECTIFY_SIGNATURE_ALGORITHM"), ("file_store", "RECTIFY_FILE_STORE"),
            ("s3_endpoint_url", "RECTIFY_S3_ENDPOINT_URL"), ("s3_bucket", "RECTIFY_S3_BUCKET"),
            ("s3_access_key", "RECTIFY_S3_ACCESS_KEY"), ("s3_secret_key", "RECTIFY_S3_SECRET_KEY"),
            ("s3_region", "RECTIFY_S3_REGION"), ("s3_prefix", "RECTIFY_S3_PREFIX")) if os.environ.get(name)}
        return replace(settings, **delivery, **overrides)
