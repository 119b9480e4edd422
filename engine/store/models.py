"""The data model (SQLAlchemy 2 declarative). Schema changes go through Alembic (engine/migrations)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship

from engine.store.types import UTCDateTime

# Roles (docs/domain.md, roles), named in Chinese as users know them.
OFFICER = "责任人"
UNIT_HEAD = "责任单位负责人"
LEADER = "分管领导"
HEAD = "主要领导"
OFFICE = "整改办"
DISCIPLINE = "纪检监察"
DESIGNER = "流程设计"
ADMIN = "管理员"
ROLES = (OFFICER, UNIT_HEAD, LEADER, HEAD, OFFICE, DISCIPLINE, DESIGNER, ADMIN)
# Roles that see every item of the body; the others see their own unit's.
BODY_WIDE_ROLES = frozenset({LEADER, HEAD, OFFICE, DISCIPLINE, ADMIN})

IMMEDIATE = "立行立改"
TIME_LIMITED = "限期整改"
LONG_TERM = "长效治理"
CATEGORIES = (IMMEDIATE, TIME_LIMITED, LONG_TERM)

STATUS_OPEN = "整改中"
STATUS_CLOSED = "已销号"
STATUS_WITHDRAWN = "已撤销"  # withdrawn by an approved change (a duplicate, merged, not a real problem)
ITEM_STATUSES = (STATUS_OPEN, STATUS_CLOSED)  # what a process may set (itemStatus)
ALL_ITEM_STATUSES = (*ITEM_STATUSES, STATUS_WITHDRAWN)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Unit(Base):
    """责任单位."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class User(Base):
    """A person, identified by name within unit. No password hash means they cannot log in yet."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("unit_id", "name"), UniqueConstraint("login", name="uq_users_login"))
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    # 登录名: an account of its own, so two 王伟 are two accounts (None: log in by name and unit).
    login: Mapped[Optional[str]] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Delivery (engine/notify/): an address, the channels chosen, the daily digest's hour (None: none).
    email: Mapped[Optional[str]] = mapped_column(String(200))
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_webhook: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    digest_hour: Mapped[Optional[int]] = mapped_column(Integer, default=8, server_default="8")
    created_at: Mapped[datetime]

    unit: Mapped[Unit] = relationship(lazy="joined")
    # Loaded when read: most users a query touches (an item's person and leader, a task's
    # assignee) are shown by name only. `person_with_roles` loads a viewer with them in one query.
    grants: Mapped[list["RoleGrant"]] = relationship(lazy="select", cascade="all, delete-orphan")

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    @property
    def sees_all_units(self) -> bool:
        return bool(self.roles & BODY_WIDE_ROLES)


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))


def person_with_roles(session: Session, user_id: int) -> "User | None":
    """A user and their role grants in one statement (a request asks who its viewer is several times)."""
    return session.get(User, user_id, options=[joinedload(User.grants)])


class Round(Base):
    """巡察轮次: one inspection and its feedback."""

    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    inspection_group: Mapped[str] = mapped_column(String(200))
    inspected_body: Mapped[str] = mapped_column(String(200))
    inspection_start: Mapped[Optional[date]] = mapped_column(Date)
    inspection_end: Mapped[Optional[date]] = mapped_column(Date)
    feedback_date: Mapped[date] = mapped_column(Date)
    # The free text of the public progress report (整改进展情况公布), written by 整改办.
    report_practices: Mapped[str] = mapped_column(Text, default="")  # 一、整改主要做法
    report_next_steps: Mapped[str] = mapped_column(Text, default="")  # 三、下一步工作打算
    report_contact: Mapped[str] = mapped_column(String(500), default="")  # 联系方式
    report_issuer: Mapped[str] = mapped_column(String(200), default="")  # 发布单位 (default: the inspected body)
    report_date: Mapped[Optional[date]] = mapped_column(Date)
    # Who deployed the inspection (根据市委统一部署) and the Party organisation it was fed back to (党组/党委).
    deploying_authority: Mapped[str] = mapped_column(String(200), default="", server_default="")
    feedback_recipient: Mapped[str] = mapped_column(String(200), default="", server_default="")
    close_target: Mapped[int] = mapped_column(Integer, default=95, server_default="95")  # 销号率目标, percent
    # 整改情况报告: sent upward within two months of feedback (upward_due None: feedback date + 2 months).
    upward_due: Mapped[Optional[date]] = mapped_column(Date)
    upward_sent_on: Mapped[Optional[date]] = mapped_column(Date)
    upward_recipient: Mapped[str] = mapped_column(String(200), default="", server_default="")
    upward_plan: Mapped[str] = mapped_column(Text, default="", server_default="")  # 整改方案: measures, group, timetable
    # 红黄绿灯 thresholds in days (engine/ledger/lights.py, Thresholds): 蓝 window, 黄 and 红 points past due.
    blue_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    yellow_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    red_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    created_at: Mapped[datetime]


class Aspect(Base):
    """方面: a heading that groups problems in a round."""

    __tablename__ = "aspects"
    __table_args__ = (UniqueConstraint("round_id", "title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))


class Item(Base):
    """问题: one problem of the ledger and its rectification."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        Index("ix_items_open_deadline", "status", "deadline"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    aspect_id: Mapped[Optional[int]] = mapped_column(ForeignKey("aspects.id"))
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[date] = mapped_column(Date)
    standard: Mapped[str] = mapped_column(Text, default="")
    needs_third_party: Mapped[bool] = mapped_column(Boolean, default=False)
    publish: Mapped[bool] = mapped_column(Boolean, default=True)
    # A sentence 整改办 chose to publish about accountability taken (empty: nothing is published).
    public_accountability: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(10), default=STATUS_OPEN)
    light: Mapped[str] = mapped_column(String(10), default="绿")
    closed_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime]

    round: Mapped[Round] = relationship(lazy="select")
    aspect: Mapped[Optional[Aspect]] = relationship(lazy="select")
    unit: Mapped[Unit] = relationship(lazy="select")
    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="select")
    leader: Mapped[User] = relationship(foreign_keys=[leader_id], lazy="select")


class ProcessVersion(Base):
    """A deployed BPMN file with the forms it references, stored once, keyed by content hash."""

    __tablename__ = "process_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict]
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[Optional[str]] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")  # what changed, by its designer


class ProcessInstance(Base):
    """One item's running path: its SpiffWorkflow state, without the spec (kept in its version).

    `revision` is checked on every save, so a second concurrent writer gets a conflict."""

    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    state: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    tree_depth: Mapped[int] = mapped_column(Integer, default=0)
    tree_size: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    version: Mapped[ProcessVersion] = relationship(lazy="select")
    __mapper_args__ = {"version_id_col": revision}


class InboxTask(Base):
    """An open human task (我的待办). Rows come and go with the instance's READY user tasks."""

    __tablename__ = "inbox_tasks"
    __table_args__ = (
        Index("ix_inbox_assignee", "assignee_id", "due_date"),
        # Role pools: tasks nobody holds yet (assignee NULL) for a role, found by index prefix.
        Index("ix_inbox_pool", "lane_role", "assignee_id", "scope_unit_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane_role: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    scope_unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"))
    form_key: Mapped[Optional[str]] = mapped_column(String(100))
    signoff: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[Optional[date]] = mapped_column(Date)
    reminded: Mapped[Optional[str]] = mapped_column(String(10))  # the worst light its holder was told of
    created_at: Mapped[datetime]

    item: Mapped[Item] = relationship(lazy="select")
    assignee: Mapped[Optional[User]] = relationship(lazy="select")


class TaskRecord(Base):
    """A finished step of an instance (history): who, when, with what data. Append-only."""

    __tablename__ = "task_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # user / signoff / event / gateway / script / other
    outcome: Mapped[str] = mapped_column(String(20), default="completed")  # completed / cancelled
    completed_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime]
    data: Mapped[Optional[dict]]

    user: Mapped[Optional[User]] = relationship(lazy="select")


class Timer(Base):
    """Due times of an instance's waiting timer events, so `tick` loads only what is due."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(index=True)


class EvidenceFile(Base):
    """佐证材料: metadata here, content on disk under its SHA-256."""

    __tablename__ = "evidence_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    task_id: Mapped[Optional[str]] = mapped_column(String(36))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class Signature(Base):
    """签字记录: one deliberate sign-off. Never updated or deleted (database triggers refuse it);
    `digest` chains it to the item's previous signature; `signature` is the signer's own."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("item_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    step: Mapped[str] = mapped_column(String(200))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    unit_name: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(10))
    opinion: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime]
    payload: Mapped[dict]  # what was approved: the item, the reviewed data, evidence hashes
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The signer's own signature (base64) over the ASCII digest, and the certificate that made it
    # (engine/people/keys.py); empty on signatures made before personal keys existed.
    signature: Mapped[Optional[str]] = mapped_column(Text)
    signature_algorithm: Mapped[Optional[str]] = mapped_column(String(30))
    certificate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("personal_certificates.id"))


class AuditEntry(Base):
    """Audit log, append-only and hash-chained across the whole database."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[Optional[str]] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the chain's head. Updating it first serialises appenders on every database."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    keyed_from: Mapped[Optional[int]] = mapped_column(Integer)  # first row chained with the key
    head_mac: Mapped[Optional[str]] = mapped_column(String(64))  # the key's MAC over count, last hash, keyed_from


class Document(Base):
    """A generated, signed document (销号单), stored on disk under its SHA-256. Regenerating adds a new
    row; earlier ones are kept."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # closure
    item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("items.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)
    record_digest: Mapped[str] = mapped_column(String(64))  # digest of the record data the PDF shows
    cert_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
