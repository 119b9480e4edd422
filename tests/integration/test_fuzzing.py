"""Property-based fuzzing (hypothesis): whatever a person submits — a task form, a ledger file, a
BPMN file — the answer is a message or a success, never a traceback, and a refusal writes nothing."""
from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from helpers import new_item, new_round, people, task_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_fixture import HEADER, ledger_rows, workbook_bytes
from sqlalchemy import func, select

from engine.errors import EngineError
from engine.ledger.xlsx.importing import apply_import, preview_import
from engine.people.directory import user_id_of
from engine.process.validation import validate_file
from engine.store.models import IMMEDIATE, AuditEntry, EvidenceFile, Item, TaskRecord
from engine.work.completion import complete_task
from engine.work.evidence import Upload

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                   st.text(max_size=300), st.lists(st.text(max_size=20), max_size=3),
                   st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3))
form_data = st.dictionaries(st.sampled_from(["measures", "result", "completed_on", "evidence", "decision", "opinion",
                                             "x", "", "__proto__"]), values, max_size=6)


def _counts(engine) -> tuple:
    with engine.db.reading() as session:
        return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (TaskRecord, EvidenceFile, AuditEntry, Item))


@FUZZ
@given(data=form_data, password=st.one_of(st.none(), st.text(max_size=30)),
       files=st.lists(st.tuples(st.text(min_size=1, max_size=40), st.binary(max_size=200)), max_size=2))
def test_any_form_submission_is_answered_or_refused_cleanly(sqlite_cast, data, password, files):
    engine = sqlite_cast
    item = new_item(engine, IMMEDIATE, number=uuid4().hex[:12])  # a fresh item each time
    task = task_id(engine, item, "fix_task")
    before = _counts(engine)
    try:
        complete_task(engine, task, data, user_id_of(engine, "张伟"), password,
                      tuple(Upload(name, content) for name, content in files))
    except EngineError as refused:
        assert refused.message  # a sentence for the person
        assert _counts(engine)[:2] == before[:2]  # nothing of the action written
    else:  # accepted: then it was a valid form, and all of it was written
        assert _counts(engine)[0] > before[0]


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)  # what a cell can hold
cells = st.one_of(st.none(), printable, st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                  st.sampled_from(["立行立改", "限期整改", "长效治理", "=1+1", "2026年2月30日", "2026/13/1", "   "]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.integers(0, 24), st.sampled_from(HEADER), cells), max_size=8),
       header_drop=st.one_of(st.none(), st.sampled_from(HEADER)))
def test_any_ledger_is_imported_whole_or_refused_with_named_problems(sqlite_cast, changes, header_drop):
    engine = sqlite_cast
    round_name = new_round(engine, f"导入轮次{uuid4().hex[:8]}")  # a fresh round each time
    rows = ledger_rows()
    for index, column, value in changes:
        rows[index][column] = value
    data = workbook_bytes(rows, [h for h in HEADER if h != header_drop])
    plan = preview_import(engine, round_name, data)
    before = _counts(engine)
    try:
        result = apply_import(engine, round_name, data, actor="fuzz", allow_role_changes=True)
    except EngineError as refused:
        assert refused.message and _counts(engine) == before
        assert not plan.ok  # the preview said so too
        for problem in getattr(refused, "problems", []):
            assert problem.message
    else:
        assert plan.ok and _counts(engine)[3] == before[3] + len(result["created"])


bpmn_text = (ROOT / "workflows" / "immediate.bpmn").read_text()


@FUZZ
@given(cut=st.integers(0, len(bpmn_text)), insert=st.text(max_size=40),
       replace=st.sampled_from(["", "责任人", 'value="true"', "<bpmn:task/>", "escalation_at", "=", "&"]))
def test_any_bpmn_file_gets_element_messages_not_a_traceback(tmp_path_factory, cut, insert, replace):
    folder = tmp_path_factory.mktemp("bpmn")
    mutated = bpmn_text[:cut] + insert + replace + bpmn_text[cut + len(insert):]
    path = folder / "mutated.bpmn"
    path.write_text(mutated)
    problems = validate_file(path, ROOT / "forms")
    for problem in problems:
        assert str(problem)


@pytest.fixture
def sqlite_cast(sqlite_engine):
    """The demo people and a round on SQLite (the fuzzers check input handling, not the database)."""
    people(sqlite_engine)
    new_round(sqlite_engine)
    return sqlite_engine
