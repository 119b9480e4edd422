"""Moving one running workflow onto another version's spec, with SpiffWorkflow's own diff and
migration (`SpiffWorkflow.bpmn.util.diff`): tasks are matched by BPMN id; what the item is doing now
must mean the same in the new version, or the workflow stays where it is.

The rules (each refusal is a sentence the preview shows):
- an open or waiting step (READY, WAITING, STARTED) must exist in the new version under the same id
  and be unchanged but for its name, documentation and where it leads (its lane, form, sign-off,
  due date, timer, script or multi-instance settings may not change under a running item);
- no multi-instance may be under way (its elements carry per-element data the new spec may not fit);
- a running sub-process must exist in the new version;
- the finished tasks the runtime still holds must exist too, unless compaction can let them go;
- the result must save and load with the new spec.

`migrate_workflow` resets the open and waiting tasks, re-predicting what follows them; it copies each
one's data from its parent, which after compaction is not its real predecessor. So each open task
lends its own data to its parent for the moment, and gets its data and timer state back afterwards:
a migration changes what comes next, never what the item has already done or when its timers fire.
"""
from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.process.bpmn import LoadedVersion, loop_of, step_id, step_name
from engine.process.compaction import compact

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_COSMETIC = {"bpmn_name", "documentation", "description", "inputs", "outputs", "lookahead"}
_LABELS = {"lane": "泳道（办理角色）", "extensions": "扩展属性（表单、签字、期限等）", "typename": "元素类型",
           "manual": "是否由人办理", "script": "脚本", "prescript": "前置脚本", "postscript": "后置脚本",
           "event_definition": "事件（定时器等）定义", "spec": "所调用的子流程",
           "data_input_associations": "数据输入", "data_output_associations": "数据输出", "io_specification": "输入输出"}


class CannotMove(ValueError):
    """The moved workflow would still need a step the new version no longer has."""


class SpecDiffs:
    """SpiffWorkflow's spec diffs between two versions, made once per pair of versions (what
    `diff_workflow` makes for every workflow) and shared by every instance being moved."""

    def __init__(self, registry, old: LoadedVersion, new: LoadedVersion):
        self.registry, self.old, self.new = registry, old, new
        self.top = SpecDiff(registry, old.spec, new.spec)
        self.subs = {name: SpecDiff(registry, spec, new.subprocess_specs[name])
                     for name, spec in old.subprocess_specs.items() if name in new.subprocess_specs}

    def workflow_diffs(self, workflow) -> tuple[WorkflowDiff, dict]:
        """As diff_workflow(registry, workflow, new spec, new subprocess specs)."""
        return WorkflowDiff(workflow, self.top), {
            sp_id: WorkflowDiff(sp, self.subs[sp.spec.name]) if sp.spec.name in self.subs else None
            for sp_id, sp in workflow.subprocesses.items()}

    def changed_attributes(self, old_spec, new_spec) -> list[str]:
        first, second = self.registry.convert(old_spec), self.registry.convert(new_spec)
        if first.get("typename") != second.get("typename"):
            return ["typename"]
        return [k for k, v in first.items() if second.get(k) != v and k not in _COSMETIC]


def _label(task) -> str:
    return f"「{step_name(task.task_spec)}」（{step_id(task.task_spec)}）"


def problems(diffs: SpecDiffs, workflow) -> list[str]:
    """Why this workflow cannot move to the new version (empty: it can)."""
    top_diff, sp_diffs = diffs.workflow_diffs(workflow)
    reasons: list[str] = []
    for sp_id, sp_diff in sp_diffs.items():
        if sp_diff is None:
            owner = workflow.get_task_from_id(sp_id)
            reasons.append(f"子流程{_label(owner)}在新版本中已删除，而它正在进行")
    pairs = [(workflow, top_diff)] + [(workflow.subprocesses[i], d) for i, d in sp_diffs.items() if d is not None]
    loops = set()
    for wf, diff in pairs:
        for task in wf.get_tasks(state=LIVE, skip_subprocesses=True):
            loop = loop_of(task) or (task.task_spec if isinstance(task.task_spec, LoopTask) else None)
            if loop is not None:
                if loop.name not in loops:
                    loops.add(loop.name)
                    reasons.append(f"多实例环节「{step_name(loop)}」正在进行，须等各项都完成后再迁移")
                continue
            new_spec = diff.alignment.get(task)
            if new_spec is None or new_spec.name != task.task_spec.name:
                reasons.append(f"当前环节{_label(task)}在新版本中已删除")
                continue
            changed = diffs.changed_attributes(task.task_spec, new_spec)
            if changed:
                reasons.append(f"当前环节{_label(task)}在新版本中已改变："
                               + "、".join(dict.fromkeys(_LABELS.get(k, k) for k in changed)))
    return reasons


def migrate(diffs: SpecDiffs, workflow) -> None:
    """Move a workflow that `problems` passed onto the new version, in place, then compact it so that
    no finished task of a removed step is kept. Raises CannotMove when the runtime still needs one."""
    top_diff, sp_diffs = diffs.workflow_diffs(workflow)
    new = diffs.new
    workflows = [workflow, *workflow.subprocesses.values()]
    saved, lent = {}, {}
    for wf in workflows:
        for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True):
            saved[task.id] = (task, deepcopy(task.data), deepcopy(task.internal_data))
            parent = task.parent
            if parent is not None:
                lent.setdefault(parent.id, (parent, parent.data))
                parent.data = deepcopy(task.data)
    removed = set(diffs.top.removed) | {s for d in diffs.subs.values() for s in d.removed}
    migrate_workflow(top_diff, workflow, new.spec)
    workflow.subprocess_specs = new.subprocess_specs
    for sp_id, sp_diff in sp_diffs.items():
        sp = workflow.subprocesses.get(sp_id)
        if sp is not None and sp_diff is not None:
            migrate_workflow(sp_diff, sp, new.subprocess_specs[sp.spec.name])
    for parent, data in lent.values():
        parent.data = data
    for task, data, internal in saved.values():
        if task.workflow.tasks.get(task.id) is task:
            task.data, task.internal_data = data, internal
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.get_tasks(state=TaskState.STARTED, skip_subprocesses=True):
            _repredict(wf, task)
    compact(workflow, forget=frozenset(removed))
    foreign = [t for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()
               if not _belongs(t, wf, workflow, new)]
    if foreign:
        names = "、".join(dict.fromkeys(_label(t) for t in foreign))
        raise CannotMove(f"已完成的{names}在新版本中已删除，而流程实例的结构仍需要它（如并行网关）")


def _repredict(wf, task) -> None:
    """A running sub-process's predicted successors, predicted again from the new spec."""
    if isinstance(task.task_spec, LoopTask):
        return
    for child in list(task.children):
        if child.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE) and not child.triggered:
            wf._remove_task(child.id)
    task.task_spec._predict_hook(task)
    for child in task.children:
        child.task_spec._predict(child, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)


def _belongs(task, wf, top, new: LoadedVersion) -> bool:
    spec = new.spec if wf is top else new.subprocess_specs.get(wf.spec.name)
    return spec is not None and spec.task_specs.get(task.task_spec.name) is task.task_spec
