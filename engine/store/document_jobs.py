"""The `document_jobs` table: a long document (the 整改情况报告 of a large round, 300+ pages, half a minute
of layout) made in the background instead of during a web request. Only the row is here (the store knows
nothing of reports); queuing, rendering and reading jobs is engine/reports/document_jobs.py.

The rendered file lives in the `documents` file store under its SHA-256, written in the transaction that
marks the job done, so a job is 已完成 exactly when its file is stored, and a failed one has none."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base

QUEUED, RUNNING, DONE, FAILED = "排队中", "生成中", "已完成", "失败"


class DocumentJob(Base):
    __tablename__ = "document_jobs"
    __table_args__ = (Index("ix_document_jobs_round_kind", "round_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    kind: Mapped[str] = mapped_column(String(20))  # upward.pdf
    requested_by: Mapped[Optional[str]] = mapped_column(String(100))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))
    # The last audited change (audit_log.id) when the report's data was read: a later one makes it outdated.
    last_change_id: Mapped[Optional[int]] = mapped_column(Integer)
    # Progress while laying out: units (table rows, paragraphs) done of all, pages written so far.
    units_done: Mapped[int] = mapped_column(Integer, default=0)
    units_total: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[Optional[datetime]]  # last progress: a 生成中 job silent for long was interrupted
    error: Mapped[Optional[str]] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    finished_at: Mapped[Optional[datetime]]
