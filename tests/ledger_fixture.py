"""A realistic ledger (问题台账) as an 整改办 keeps it in Excel: 25 problems of a 巡察 in 8 aspects, a title
row above the header, columns in their own order, deadlines typed every way people type them (real
Excel date cells among them), names padded with blanks for alignment. Built with openpyxl."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

from helpers import TODAY, close_immediate_item
from openpyxl import Workbook

from engine.ledger.items import list_items
from engine.store.models import IMMEDIATE as IM
from engine.store.models import LONG_TERM as LT
from engine.store.models import TIME_LIMITED as TL

ASPECTS = [
    "（一）贯彻落实党的路线方针政策和上级决策部署不够到位",
    "（二）履行全面从严治党主体责任不够到位",
    "（三）落实中央八项规定精神不够严格",
    "（四）财务管理不够规范",
    "（五）工程项目管理存在薄弱环节",
    "（六）选人用人和干部队伍建设存在短板",
    "（七）基层党组织建设不够扎实",
    "（八）巡察审计等监督发现问题整改不够到位",
]

# (aspect index, 问题, 整改类别, 责任单位, 责任人, 分管领导, days from today to the deadline, date style)
# Date styles: cell = an Excel date cell, iso = 2026-04-18, slash = 2026/4/18, cn = 2026年4月18日.
PROBLEMS = [
    (0, "学习贯彻上级重要会议精神不及时、不深入", TL, "办公室", "孙浩", "陈刚", 60, "cell"),
    (0, "落实城市道路桥梁安全隐患排查部署不彻底", TL, "养护管理科", "郑  凯", "黄建国", 75, "iso"),
    (0, "重点民生工程推进缓慢", LT, "工程管理科", "王强", "陈刚", 240, "slash"),
    (1, "党委会研究全面从严治党工作不够经常", LT, "党建办公室", "冯  雪", "刘洋", 200, "cn"),
    (1, "对下属单位监督检查流于形式", TL, "纪检监察室", "吴磊", "刘洋", 90, "cell"),
    (1, "廉政风险点排查不全面", TL, "纪检监察室", "吴磊", "刘洋", -10, "iso"),
    (2, "违规发放津贴补贴", IM, "财务科", "张伟", "陈刚", 5, "cell"),
    (2, "公务用车使用管理不规范", IM, "办公室", "孙浩", "陈刚", 7, "slash"),
    (2, "公务接待超标准、无公函接待", IM, "办公室", "孙浩", "陈刚", -40, "cn"),
    (3, "财务报销审核把关不严", TL, "财务科", "张伟", "陈刚", 60, "iso"),
    (3, "专项资金未做到专款专用", TL, "财务科", "张伟", "陈刚", 80, "cell"),
    (3, "往来款项长期挂账未清理", IM, "财务科", "张伟", "陈刚", 3, "iso"),
    (3, "固定资产账实不符", TL, "财务科", "何  静", "陈刚", 100, "slash"),
    (4, "工程变更审批程序不规范", TL, "工程管理科", "王强", "陈刚", 80, "cell"),
    (4, "工程项目档案资料缺失", IM, "工程管理科", "王强", "陈刚", -12, "iso"),
    (4, "工程招投标监管制度不健全", LT, "工程管理科", "王强", "陈刚", 200, "cn"),
    (4, "工程质量安全监管存在盲区", LT, "质量安全科", "林  涛", "黄建国", 300, "slash"),
    (5, "干部选拔任用程序执行不严格", TL, "人事科", "许  蕾", "刘洋", 90, "iso"),
    (5, "干部人事档案审核不细致", IM, "人事科", "许  蕾", "刘洋", 20, "cell"),
    (5, "年轻干部培养储备不足", LT, "人事科", "许  蕾", "刘洋", 360, "cn"),
    (6, "“三会一课”制度落实不到位", TL, "党建办公室", "冯  雪", "刘洋", 45, "slash"),
    (6, "党员发展程序不规范", IM, "党建办公室", "冯  雪", "刘洋", 14, "iso"),
    (6, "党费收缴管理不规范", IM, "党建办公室", "冯  雪", "刘洋", 10, "cell"),
    (7, "上轮巡察反馈问题整改不彻底", TL, "办公室", "孙浩", "陈刚", 70, "cn"),
    (7, "审计发现问题整改销号把关不严", LT, "财务科", "张伟", "陈刚", 180, "iso"),
]

# The header in the order the office keeps its columns (not the contract's order), plus a 备注 column.
HEADER = ["序号", "方面", "问题", "问题描述", "整改类别", "责任单位", "责任人", "分管领导", "完成标准", "整改时限", "备注"]


def deadline_of(days: int) -> date:  # from TODAY, the body's date as the engine counts days
    return TODAY + timedelta(days=days)


def typed(day: date, style: str):
    return {"cell": datetime(day.year, day.month, day.day), "iso": day.isoformat(),
            "slash": f"{day.year}/{day.month}/{day.day}", "cn": f"{day.year}年{day.month}月{day.day}日"}[style]


def ledger_rows() -> list[dict]:
    """The 25 problems as header -> cell value."""
    rows = []
    for number, (aspect, title, category, unit, person, leader, days, style) in enumerate(PROBLEMS, start=1):
        rows.append({
            "序号": number, "方面": ASPECTS[aspect], "问题": title,
            "问题描述": f"巡察发现，{unit}存在{title}的问题。",
            "整改类别": category, "责任单位": unit, "责任人": person, "分管领导": leader,
            "完成标准": "问题整改到位，相关制度健全，佐证材料齐全。", "整改时限": typed(deadline_of(days), style),
            "备注": "",
        })
    return rows


def workbook_bytes(rows: list[dict], header: list[str] = HEADER, title: str | None = "市政工程管理处巡察反馈问题整改台账") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "整改台账"
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append([row.get(h) for h in header])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy年m月d日"
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed as text in Excel ('=…), not a formula
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def ledger_xlsx() -> bytes:
    return workbook_bytes(ledger_rows())


def expected_name(name: str) -> str:
    return name.replace(" ", "")


ALLOWANCES = "违规发放津贴补贴"  # 张伟's 立行立改 problem: 李娜 reviews it, 陈刚 signs it off (helpers.people)
ALLOWANCES_FIX = {"measures": "逐项清理2023年以来发放的津贴补贴，追回违规发放的交通补贴12.6万元",
                  "result": "违规款项已全部追回并上缴财政", "completed_on": TODAY.isoformat()}


def close_allowances(engine, round_name: str) -> int:
    """违规发放津贴补贴 of the imported ledger closed by its people, without a return: its id."""
    item = next(i["id"] for i in list_items(engine, round_name) if i["title"] == ALLOWANCES)
    close_immediate_item(engine, item, fix=ALLOWANCES_FIX, opinions=("同意", "同意销号"))
    return item


FLAGS = ["需第三方评估", "是否公开"]
HIDDEN = "公务接待超标准、无公函接待"  # marked not for publication
EVALUATED = "工程变更审批程序不规范"  # the one problem with a third-party evaluation


def ledger_with_flags() -> bytes:
    """The 25 problems with the two flag columns: one problem not for publication, one evaluated."""
    rows = ledger_rows()
    for row in rows:
        row["是否公开"] = "否" if row["问题"] == HIDDEN else "是"
        row["需第三方评估"] = "是" if row["问题"] == EVALUATED else "否"
    return workbook_bytes(rows, HEADER + FLAGS)
