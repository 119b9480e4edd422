"""Engine rules without a database: lights, forms, the clock, digests, and the library boundary."""
import json
import subprocess
import sys
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.canonical import canonical_json, digest_of
from engine.clock import CLOCK
from engine.config import REPO_ROOT
from engine.errors import InvalidInput
from engine.ledger.lights import LightRules, Thresholds
from engine.process.forms import load_form, schema_problems, validate
from engine.work.signoff import evidence_hashes

SH = ZoneInfo("Asia/Shanghai")
RULES = LightRules("Asia/Shanghai")  # the published defaults: 7, 0, 30
DEADLINE = date(2026, 6, 30)


@pytest.mark.parametrize("moment,light", [
    (datetime(2026, 6, 1, 9, tzinfo=SH), "绿"),
    (datetime(2026, 6, 23, 9, tzinfo=SH), "蓝"),
    (datetime(2026, 6, 30, 23, 59, tzinfo=SH), "蓝"),
    (datetime(2026, 7, 1, 0, 1, tzinfo=SH), "黄"),
    (datetime(2026, 7, 30, 23, 0, tzinfo=SH), "黄"),
    (datetime(2026, 7, 31, 0, 0, tzinfo=SH), "红"),
    # Local dates decide: 2026-07-30T17:00Z is already 07-31 in 北京时间.
    (datetime(2026, 7, 30, 17, 0, tzinfo=timezone.utc), "红"),
])
def test_lights(moment, light):
    assert RULES.light(DEADLINE, "整改中", moment) == light
    assert RULES.light(DEADLINE, "已销号", moment) == "已销号"


@pytest.mark.parametrize("moment,light", [
    (datetime(2026, 6, 15, 9, tzinfo=SH), "绿"),
    (datetime(2026, 6, 16, 9, tzinfo=SH), "蓝"),   # 14-day blue window
    (datetime(2026, 7, 10, 9, tzinfo=SH), "蓝"),   # overdue, within the 14-day grace before 黄
    (datetime(2026, 7, 15, 9, tzinfo=SH), "黄"),   # more than 14 days past due
    (datetime(2026, 8, 14, 9, tzinfo=SH), "黄"),
    (datetime(2026, 8, 15, 0, 0, tzinfo=SH), "红"),  # more than 45 days past due
])
def test_a_rounds_own_thresholds(moment, light):
    rules = RULES.with_thresholds(Thresholds(blue_days=14, yellow_days=14, red_days=45))
    assert rules.light(DEADLINE, "整改中", moment) == light
    assert rules.escalation_moment(DEADLINE).isoformat() == "2026-08-15T00:00:00+08:00"
    assert RULES.light(DEADLINE, "整改中", datetime(2026, 7, 10, 9, tzinfo=SH)) == "黄"  # the defaults are untouched


def test_escalation_moment_is_the_first_red_moment():
    moment = RULES.escalation_moment(DEADLINE)
    assert moment.isoformat() == "2026-07-31T00:00:00+08:00"
    assert RULES.light(DEADLINE, "整改中", moment) == "红"


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "forms").glob("*.json")), ids=lambda p: p.name)
def test_shipped_forms_are_valid_schemas_with_chinese_titles(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema_problems(schema) == []
    for name, field in schema["properties"].items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in field.get("title", "")), f"{path.name}:{name}"


def test_signoff_form_requires_an_opinion_only_when_returning():
    schema = load_form(REPO_ROOT / "forms", "signoff")
    assert validate(schema, {"decision": "approve"})
    with pytest.raises(InvalidInput) as refused:
        validate(schema, {"decision": "reject", "opinion": "  "})
    assert "意见" in refused.value.field_errors["opinion"]
    with pytest.raises(InvalidInput) as refused:
        validate(schema, {"decision": "maybe"})
    assert "通过、退回" in refused.value.field_errors["decision"]


def test_nested_list_errors_name_the_row():
    schema = load_form(REPO_ROOT / "forms", "time_limited_plan")
    with pytest.raises(InvalidInput) as refused:
        validate(schema, {"measures": "x", "planned_completion": "2026-05-01",
                          "milestones": [{"title": "a", "due": "2026-04-01"}, {"title": "b", "due": "4月1日"}]})
    assert refused.value.field_errors == {"milestones.1.due": "「阶段目标的第2项的完成日期」不是有效日期（格式 YYYY-MM-DD）：4月1日"}


def test_spiffworkflow_timers_read_the_engine_clock():
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    pinned = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with CLOCK.pinned(pinned):
        assert timer.datetime.now(timezone.utc) == pinned
        assert CLOCK.now() == pinned
    assert abs((CLOCK.now() - datetime.now(timezone.utc)).total_seconds()) < 5
    with pytest.raises(ValueError):
        with CLOCK.pinned(datetime(2031, 1, 1)):
            pass


def test_canonical_json_is_stable_and_keeps_chinese():
    a = {"b": [1, {"意见": "同意"}], "a": date(2026, 1, 2)}
    assert canonical_json(a) == '{"a":"2026-01-02","b":[1,{"意见":"同意"}]}'
    assert digest_of(a) == digest_of(dict(reversed(list(a.items()))))


def test_evidence_hashes_are_found_anywhere_in_the_data():
    data = {"evidence": [{"sha256": "b" * 64, "name": "x"}], "enacted_rules": [{"evidence": [{"sha256": "a" * 64, "name": "y"}]}]}
    assert evidence_hashes(data) == ["a" * 64, "b" * 64]


def test_engine_imports_nothing_from_flask():
    code = (
        "import pkgutil, importlib, sys, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('flask', 'flask_login', 'flask_wtf', 'werkzeug'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
