"""立行立改 end to end through the engine API, on SQLite and PostgreSQL."""
import pytest
from helpers import FIX, PASSWORD, do, evidence, new_item, open_tasks, sign, task_id
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidInput
from engine.ledger.detail import item_detail
from engine.people.directory import add_user, user_id_of
from engine.people.logins import login
from engine.people.throttle import CONFIRM_LIMIT
from engine.store.audit import verify_chain
from engine.store.models import IMMEDIATE, AuditEntry, ProcessInstance, Signature, Timer
from engine.work.completion import complete_task


def test_return_once_then_sign_off_closes_the_item(engine, item):
    assert [t["bpmn_id"] for t in open_tasks(engine, item)] == ["fix_task"]
    assert open_tasks(engine, item)[0]["assignee"] == "张伟"

    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜", "reject", "佐证不全，请补充银行回单")
    # Back with the officer, who sees why.
    tid = task_id(engine, item, "fix_task")
    from engine.work.inbox import task_detail
    assert task_detail(engine, tid)["data"]["opinion"] == "佐证不全，请补充银行回单"

    do(engine, item, "fix_task", "张伟", FIX | {"result": "补充银行回单"}, files=evidence("回单.pdf", b"%PDF-1.4 receipt"))
    sign(engine, item, "unit_head_review", "李娜", "approve", "同意")
    result = sign(engine, item, "leader_signoff", "陈刚", "approve", "同意销号")

    assert result["item_status"] == "已销号"
    detail = item_detail(engine, item)
    assert detail["status"] == "已销号" and detail["light"] == "已销号" and detail["closed_at"]
    assert detail["open_tasks"] == []
    assert detail["process"]["completed"] is True
    chain = detail["signatures"]
    assert [(s["signer"], s["decision"]) for s in chain] == [("李娜", "reject"), ("李娜", "approve"), ("陈刚", "approve")]
    assert chain[0]["opinion"] == "佐证不全，请补充银行回单"
    assert chain[1]["prev_digest"] == chain[0]["digest"] and chain[2]["prev_digest"] == chain[1]["digest"]
    assert detail["signature_chain_ok"]
    with engine.db.reading() as s:
        # The accountability branch ended with the item: no timer left waiting to escalate it.
        waiting = s.execute(select(Timer.bpmn_id).join(ProcessInstance, Timer.instance_id == ProcessInstance.id)
                            .where(ProcessInstance.item_id == item)).scalars().all()
        assert waiting == []
        assert verify_chain(s, engine.db.audit_key).ok
        payload = s.execute(select(Signature.payload).where(Signature.item_id == item, Signature.seq == 3)).scalar_one()
    assert payload["approved_data"]["result"] == "补充银行回单"
    assert len(payload["evidence"]) == 1 and len(payload["evidence"][0]) == 64


def test_submitter_cannot_sign_their_own_work(engine, item):
    # A small unit whose head is also the responsible person.
    add_user(engine, "钱进", "档案室", ["责任人", "责任单位负责人"], PASSWORD)
    own = new_item(engine, IMMEDIATE, number="2", unit="档案室", person="钱进")
    do(engine, own, "fix_task", "钱进", FIX, files=evidence())
    [review] = open_tasks(engine, own)
    assert review["bpmn_id"] == "unit_head_review" and review["assignee"] != "钱进"  # 审签与经办分离
    with pytest.raises(Forbidden):
        sign(engine, own, "unit_head_review", "钱进")
    with engine.db.reading() as s:
        assert s.execute(select(func.count(Signature.id)).where(Signature.item_id == own)).scalar_one() == 0


def test_wrong_person_and_wrong_password_are_refused_and_write_nothing(engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    tid = task_id(engine, item, "unit_head_review")
    with pytest.raises(Forbidden, match="李娜"):
        complete_task(engine, tid, {"decision": "approve"}, user_id_of(engine, "王强"), PASSWORD)
    with pytest.raises(InvalidInput, match="密码不正确") as wrong:
        complete_task(engine, tid, {"decision": "approve"}, user_id_of(engine, "李娜"), "wrong-password")
    assert wrong.value.field_errors == {"password": "密码不正确"}
    with pytest.raises(InvalidInput) as refused:
        complete_task(engine, tid, {"decision": "reject"}, user_id_of(engine, "李娜"), PASSWORD)
    assert "opinion" in refused.value.field_errors
    assert task_id(engine, item, "unit_head_review") == tid
    assert item_detail(engine, item)["signatures"] == []


def test_form_errors_name_the_field_in_chinese_and_change_nothing(engine, item):
    tid = task_id(engine, item, "fix_task")
    with pytest.raises(InvalidInput) as refused:
        complete_task(engine, tid, {"measures": "", "completed_on": "2026-13-40"}, user_id_of(engine, "张伟"))
    errors = refused.value.field_errors
    assert "整改措施" in errors["measures"]
    assert "整改结果" in errors["result"] and "必填" in errors["result"]
    assert "日期" in errors["completed_on"]
    assert "佐证材料" in errors["evidence"]
    assert task_id(engine, item, "fix_task") == tid


def test_forbidden_file_type_is_refused(engine, item):
    from engine.work.evidence import Upload
    with pytest.raises(InvalidInput, match="类型不允许"):
        do(engine, item, "fix_task", "张伟", FIX, files=(Upload("病毒.exe", b"MZ..."),))
    with pytest.raises(InvalidInput) as renamed:  # the same program renamed to look like a document
        do(engine, item, "fix_task", "张伟", FIX, files=(Upload("回单.pdf", b"MZ\x90\x00..."),))
    assert "可能改过扩展名" in renamed.value.field_errors["evidence"]
    assert list(engine.evidence.files.entries()) == []


@pytest.mark.parametrize("name,content", [
    ("回单.pdf", b"%PDF-1.7 ..."), ("现场.jpg", b"\xff\xd8\xff\xe0 JFIF"), ("截图.png", b"\x89PNG\r\n\x1a\n..."),
    ("制度.docx", b"PK\x03\x04..."), ("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1..."),
    ("说明.txt", "整改说明".encode("gb18030")), ("电子公文.ofd", b"PK\x03\x04..."),
])
def test_real_documents_of_each_kind_are_accepted(engine, item, name, content):
    from engine.work.evidence import Upload
    result = do(engine, item, "fix_task", "张伟", FIX, files=(Upload(name, content),))
    assert result["evidence"][0]["name"] == name


def test_a_completed_task_cannot_be_completed_again(engine, item):
    tid = task_id(engine, item, "fix_task")
    complete_task(engine, tid, FIX, user_id_of(engine, "张伟"), None, evidence())
    with pytest.raises(Conflict, match="该任务已由他人处理"):
        complete_task(engine, tid, FIX, user_id_of(engine, "张伟"), None, evidence())


def test_signatures_are_append_only_in_the_database(engine, item):
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    sign(engine, item, "unit_head_review", "李娜", "reject", "重做")
    with pytest.raises(Exception, match="append-only"):
        with engine.db.transaction() as s:
            s.execute(Signature.__table__.update().values(opinion="同意"))
    with pytest.raises(Exception, match="append-only"):
        with engine.db.transaction() as s:
            s.execute(Signature.__table__.delete())
    assert item_detail(engine, item)["signatures"][0]["opinion"] == "重做"


def test_wrong_signing_passwords_stop_signing_for_a_while(engine, item):
    """Someone at an unlocked desk cannot guess the signer's password at the sign-off page."""
    do(engine, item, "fix_task", "张伟", FIX, files=evidence())
    tid, signer = task_id(engine, item, "unit_head_review"), user_id_of(engine, "李娜")
    for _ in range(CONFIRM_LIMIT):
        with pytest.raises(InvalidInput, match="密码不正确"):
            complete_task(engine, tid, {"decision": "approve"}, signer, "guess")
    with pytest.raises(Forbidden, match="次数过多"):  # now even the right password waits
        complete_task(engine, tid, {"decision": "approve"}, signer, PASSWORD)
    assert login(engine, "李娜", PASSWORD)["name"] == "李娜"  # the person themselves can still sign in
    with engine.db.reading() as s:
        failures = s.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "signoff.password_failed"))
        assert failures.scalar_one() == CONFIRM_LIMIT
    assert item_detail(engine, item)["signatures"] == [] and task_id(engine, item, "unit_head_review") == tid
