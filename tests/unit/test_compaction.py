"""History compaction keeps a looping instance shallow and correct (docs/architecture.md, loops)."""
from pathlib import Path

from SpiffWorkflow.util.task import TaskState

from engine.process.bpmn import LoadedVersion, ProcessRuntime, parse_process
from engine.process.compaction import compact

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "loop.bpmn"


def _runtime_and_version():
    runtime = ProcessRuntime({})
    process_id, spec, subs = parse_process(FIXTURE.read_bytes(), FIXTURE.name)
    return runtime, LoadedVersion(1, process_id, spec, subs)


def _ready(workflow):
    return [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)]


def _pass(runtime, version, state, decision):
    """One submit + review, each in its own load/run/compact/save cycle, as the engine does."""
    for data in ({"note": "x"}, {"decision": decision}):
        workflow = runtime.loads(state, version)
        (task,) = _ready(workflow)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        depth, _size = compact(workflow)
        state = runtime.dumps(workflow)
    return state, depth


def test_600_returns_keep_the_right_task_waiting_and_the_tree_shallow():
    runtime, version = _runtime_and_version()
    state = runtime.dumps(_fresh(runtime, version))
    depths, sizes = [], []
    for _ in range(600):
        state, depth = _pass(runtime, version, state, "reject")
        depths.append(depth)
        sizes.append(len(state))
    workflow = runtime.loads(state, version)
    assert [t.task_spec.bpmn_id for t in _ready(workflow)] == ["submit"]
    assert not workflow.is_completed()
    # The timer branch still waits beside the loop.
    assert any(t.task_spec.bpmn_id == "timer" for t in workflow.get_tasks(state=TaskState.WAITING))
    # Depth and saved size stay what they were after a few passes (SpiffWorkflow alone: depth ~3,000).
    assert depths[-1] == depths[4] <= 12
    assert sizes[-1] <= sizes[4] * 1.05


def _fresh(runtime, version):
    workflow = runtime.new_workflow(version, {"escalation_at": "2099-01-01T00:00:00+08:00"})
    workflow.do_engine_steps()
    return workflow


def test_approval_after_many_returns_ends_the_process_and_cancels_the_timer_branch():
    runtime, version = _runtime_and_version()
    state = runtime.dumps(_fresh(runtime, version))
    for _ in range(30):
        state, _ = _pass(runtime, version, state, "reject")
    state, _ = _pass(runtime, version, state, "approve")
    workflow = runtime.loads(state, version)
    assert workflow.is_completed()
    assert not workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK)


def test_compaction_keeps_the_data_the_process_carries():
    runtime, version = _runtime_and_version()
    workflow = _fresh(runtime, version)
    (task,) = _ready(workflow)
    task.data.update({"note": "第一次提交"})
    task.run()
    workflow.do_engine_steps()
    compact(workflow)
    (review,) = _ready(workflow)
    assert review.data["note"] == "第一次提交"
    assert review.data["escalation_at"].startswith("2099")
