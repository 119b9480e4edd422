"""`rectify demo`: a demo body with people in every role and one round with items on all three
paths, so a new user can log in and walk an item through."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.clock import CLOCK
from engine.ledger.items import NewItem, create_item
from engine.people.directory import add_user_in, user_summary
from engine.people.passwords import hash_password
from engine.store import audit
from engine.store.models import (
    ADMIN,
    DESIGNER,
    DISCIPLINE,
    HEAD,
    IMMEDIATE,
    LEADER,
    LONG_TERM,
    OFFICE,
    OFFICER,
    TIME_LIMITED,
    UNIT_HEAD,
    Round,
)

if TYPE_CHECKING:
    from engine.core import Engine

DEMO_PASSWORD = "zhenggai2026"
DEMO_ROUND = "市委第三巡察组对市政工程管理处巡察反馈"
DEMO_BODY = "市政工程管理处"

DEMO_USERS = [
    ("张伟", "财务科", [OFFICER]),
    ("李娜", "财务科", [UNIT_HEAD]),
    ("王强", "工程管理科", [OFFICER]),
    ("赵敏", "工程管理科", [UNIT_HEAD]),
    ("陈刚", "处领导班子", [LEADER]),
    ("刘洋", "处领导班子", [HEAD]),
    ("周婷", "整改办", [OFFICE]),
    ("吴磊", "纪检监察室", [DISCIPLINE]),
    ("孙浩", "办公室", [DESIGNER, ADMIN]),
]

# (序号, 方面, 问题, 类别, 单位, 责任人, 时限距今天数, 需第三方评估)
DEMO_ITEMS = [
    ("1", "（一）贯彻落实上级决策部署不到位", "违规发放津贴补贴", IMMEDIATE, "财务科", "张伟", 5, False),
    ("2", "（一）贯彻落实上级决策部署不到位", "工程项目档案资料缺失", IMMEDIATE, "工程管理科", "王强", -12, False),
    ("3", "（二）内部管理制度执行不严格", "工程变更审批程序不规范", TIME_LIMITED, "工程管理科", "王强", 80, True),
    ("4", "（二）内部管理制度执行不严格", "财务报销审核把关不严", TIME_LIMITED, "财务科", "张伟", 60, False),
    ("5", "（三）长效机制建设滞后", "工程招投标监管制度不健全", LONG_TERM, "工程管理科", "王强", 200, False),
]


def install_demo(engine: Engine) -> dict:
    with engine.db.transaction() as session:
        users = []
        for name, unit, roles in DEMO_USERS:
            user, _ = add_user_in(session, name, unit, roles, None, actor="demo")
            users.append(user)
        existing = session.execute(select(Round).where(Round.name == DEMO_ROUND)).scalar_one_or_none()
        items = []
        if existing is None:
            for user in users:
                if not user.password_hash:
                    user.password_hash = hash_password(DEMO_PASSWORD)
            today = engine.lights.local_date(CLOCK.now())
            round_ = Round(name=DEMO_ROUND, inspection_group="市委第三巡察组", inspected_body=DEMO_BODY,
                           inspection_start=today - timedelta(days=90), inspection_end=today - timedelta(days=60),
                           feedback_date=today - timedelta(days=30), created_at=CLOCK.now())
            session.add(round_)
            session.flush()
            for number, aspect, title, category, unit, person, days, third_party in DEMO_ITEMS:
                item = create_item(engine, session, round_, NewItem(
                    number=number, title=title, category=category, unit=unit, person=person, leader="陈刚",
                    deadline=today + timedelta(days=days), aspect=aspect, third_party=third_party,
                    description=f"巡察发现：{title}。", standard="问题整改到位，形成佐证材料，建立长效机制。",
                ))
                items.append(item.id)
            audit.append(session, "demo.install", "round", round_.id, "demo", items=items)
        session.flush()
        return {"id": DEMO_ROUND, "round": DEMO_ROUND, "created": existing is None, "items": items,
                "users": [user_summary(u) for u in users], "password": DEMO_PASSWORD}
