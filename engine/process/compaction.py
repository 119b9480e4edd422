"""History compaction: keeps an instance's task tree shallow however long the item lives.

SpiffWorkflow adds tasks for every pass through a loop (退回 and resubmission, monthly reports,
quarterly 回头看), each a child of the last, so the tree deepens with history; past depth 1000 its
iterators stop and READY tasks vanish (docs/architecture.md, loops). The history a user sees lives in our own
`task_records` table, so finished tasks are only kept where SpiffWorkflow still reads them:

- a finished leaf under a finished parent is dropped (dead branches: cancelled timers, finished
  multi-instance children, the losing threads of a join);
- a finished task with one child is spliced out (the child takes its place), except where the child
  is a join: joins read their parent's spec to know which incoming flow arrived;
- event splits are kept until the activity they guard has finished (their join looks them up);
- a finished call/sub-process task takes its finished sub-workflow with it;
- the latest finished task of each step one can rewind to (a user task outside a multi-instance, a
  multi-instance task, a sub-process) is kept in the chain — SpiffWorkflow resets an instance only to a
  task it still holds (`reset_from_task_id`, engine/ledger/rewind.py). At most one per step, so the
  depth stays bounded by the number of steps; a kept sub-process drops its finished sub-workflow. A
  kept task loses its data (its successors have their copies): SpiffWorkflow's catching events copy
  their parent's data again when they fire, and must not get a past step's values.

Only the relative order of the tasks that remain is preserved, which is all the runtime relies on.
A migration to another version (engine/process/migration.py) passes the steps the new version no
longer has as `forget`: those are never kept.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from engine.process.bpmn import loop_of

_FINISHED = TaskState.FINISHED_MASK


def _finished(task) -> bool:
    return task.has_state(_FINISHED)


def rewindable(task) -> bool:
    """A step an item can be sent back to: a user task (not one element of a multi-instance), a
    multi-instance task or a sub-process."""
    spec = task.task_spec
    if isinstance(spec, (LoopTask, SubWorkflowTask)):
        return True
    return bool(getattr(spec, "manual", False)) and loop_of(task) is None


def compact(top: BpmnWorkflow, forget: frozenset = frozenset()) -> tuple[int, int]:
    """Compact the instance in place; returns (deepest tree depth, number of tasks) afterwards.
    `forget`: task specs never kept for rewinding (a migration's removed steps)."""
    _compact_tree(top, top, forget)
    for workflow in list(top.subprocesses.values()):
        if any(workflow is live for live in top.subprocesses.values()):  # not deleted meanwhile
            _compact_tree(top, workflow, forget)
    for task_id, workflow in list(top.subprocesses.items()):
        owner = _task(top, task_id) if workflow.completed else None
        if owner is not None and _finished(owner) and task_id in top.subprocesses:
            top.delete_subprocess(owner)  # a kept, finished sub-process: its tasks are history now
    depth = max(_depth(wf) for wf in [top, *top.subprocesses.values()])
    size = len(top.tasks) + sum(len(sp.tasks) for sp in top.subprocesses.values())
    return depth, size


def _depth(workflow) -> int:
    deepest, stack = 0, [(workflow.task_tree, 0)]
    while stack:
        task, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in task.children)
    return deepest


def _owns_live_subprocess(top: BpmnWorkflow, task) -> bool:
    sub = top.subprocesses.get(task.id)
    return sub is not None and not (sub.completed or task.has_state(TaskState.CANCELLED))


def _forget(top: BpmnWorkflow, workflow, task) -> None:
    if task.id in top.subprocesses:
        top.delete_subprocess(task)
    top.event_manager.remove_task(task)
    workflow.tasks.pop(task.id, None)
    if workflow.last_task is task:
        workflow.last_task = None


def _task(top: BpmnWorkflow, task_id):
    for workflow in [top, *top.subprocesses.values()]:
        if task_id in workflow.tasks:
            return workflow.tasks[task_id]
    return None


def kept_for_rewind(workflow, forget: frozenset = frozenset()) -> set:
    """Ids of the latest finished task of each rewindable step: those with no finished task of the
    same step below them."""
    order, stack = [], [workflow.task_tree]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(task.children)
    below: dict = {}
    kept = set()
    for task in reversed(order):  # every task after all of its descendants
        names = set()
        for child in task.children:
            names |= below.pop(child.id, set())
            if _finished(child) and child.task_spec not in forget and rewindable(child):
                names.add(child.task_spec.name)
        below[task.id] = names
        if _finished(task) and task.task_spec not in forget and rewindable(task) and task.task_spec.name not in names:
            kept.add(task.id)
    return kept


def _compact_tree(top: BpmnWorkflow, workflow, forget: frozenset = frozenset()) -> None:
    root = workflow.task_tree

    # Drop dead leaves, walking up as parents become leaves in turn.
    candidates = [t for t in workflow.tasks.values() if not t._children]
    while candidates:
        task = candidates.pop()
        if task is root or task._children or not _finished(task) or task.id not in workflow.tasks:
            continue
        parent = task.parent
        if parent is None or not _finished(parent) or _owns_live_subprocess(top, task):
            continue
        parent._children.remove(task.id)
        _forget(top, workflow, task)
        candidates.append(parent)

    # Splice finished single-child tasks out of the chains, until nothing more can go.
    kept = kept_for_rewind(workflow, forget)
    spliced = True
    while spliced:
        spliced = _splice_pass(top, workflow, root, kept)


def _splice_pass(top: BpmnWorkflow, workflow, root, kept: set) -> bool:
    spliced = False
    for task in list(workflow.tasks.values()):
        if task is root or task.id not in workflow.tasks or not _finished(task) or len(task._children) != 1:
            continue
        child = workflow.tasks[task._children[0]]
        if isinstance(child.task_spec, Join):
            continue
        if isinstance(task.task_spec, EventSplit) and not (
            _finished(child) and all(_finished(grandchild) for grandchild in child.children)
        ):
            continue
        if _owns_live_subprocess(top, task):
            continue
        parent = task.parent
        if parent is None:
            continue
        if task.id in kept:
            # Kept for rewinding only: without its data, so that a waiting event or join that copies
            # its parent's data again when it fires is not handed this step's stale values.
            task.data = {}
            continue
        parent._children[parent._children.index(task.id)] = child.id
        child._parent = parent.id
        task._children = []
        _forget(top, workflow, task)
        spliced = True
    return spliced
