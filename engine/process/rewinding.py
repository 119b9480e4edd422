"""Sending a running workflow back to an earlier step with SpiffWorkflow's `reset_from_task_id`.

SpiffWorkflow resets only to a task it still holds. Compaction (engine/process/compaction.py) keeps
the latest finished task of each step one can go back to — a user task, a multi-instance task, a
sub-process — so the points are the kept tasks above an open step. Steps inside a sub-process that
has finished are gone with it: one goes back to the sub-process instead, which starts it again.

The task sent back to gets a new id: its old id names a finished step in our history (task records,
signatures), and the step is done again as a new task. It starts with the process data as it is
now (what the open step carries), so the item's current deadline and variables hold.
"""
from __future__ import annotations

from copy import deepcopy
from uuid import uuid4

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from engine.process.bpmn import is_signoff, step_id, step_name
from engine.process.compaction import rewindable
from engine.process.mirror import human_tasks


def ancestors(top, task):
    """The tasks above `task`, nearest first, leaving a sub-process for the task that runs it."""
    while task is not None:
        parent = task.parent
        if parent is None and task.workflow is not top:
            parent = top.get_task_from_id(task.workflow.parent_task_id)
        if parent is not None:
            yield parent
        task = parent


def points(top) -> dict[str, object]:
    """Step id → the finished task to reset to, for every step above an open human task."""
    found: dict[str, object] = {}
    for open_task in human_tasks(top):
        for task in ancestors(top, open_task):
            if task.has_state(TaskState.FINISHED_MASK) and rewindable(task):
                found.setdefault(step_id(task.task_spec), task)
    return found


def describe(task) -> dict:
    spec = task.task_spec
    kind = ("subprocess" if isinstance(spec, SubWorkflowTask) else "multiinstance" if isinstance(spec, LoopTask)
            else "signoff" if is_signoff(spec) else "user")
    return {"step_id": step_id(spec), "name": step_name(spec), "kind": kind}


def current_data(top, target) -> dict:
    """The process data as it is now below `target`: the data its open human tasks carry."""
    data: dict = {}
    for open_task in human_tasks(top):
        if any(a is target for a in ancestors(top, open_task)):
            data.update(deepcopy(open_task.data))
    return data


def rewind(top, target, data: dict):
    """Reset the workflow to `target` (a task from `points`) with `data`; returns the task, which has
    a new id and is ready (a sub-process or multi-instance has started again)."""
    spec = target.task_spec
    if target.id in top.subprocesses:
        top.delete_subprocess(target)
    output = getattr(getattr(spec, "data_output", None), "bpmn_id", None) if isinstance(spec, LoopTask) else None
    input_ = getattr(getattr(spec, "data_input", None), "bpmn_id", None) if isinstance(spec, LoopTask) else None
    if output and output != input_:
        data.pop(output, None)  # the multi-instance gathers its results afresh
    _renew_id(target)
    top.reset_from_task_id(target.id, data)
    forget_removed_events(top)
    return target


def forget_removed_events(top) -> None:
    """SpiffWorkflow's event manager still lists the waiting timers of the tasks and sub-processes a
    reset removed; they are gone (and with them their rows in the timer table)."""
    live = [top, *top.subprocesses.values()]
    for task in list(top.event_manager.tasks.values()):
        if not any(wf.tasks.get(task.id) is task for wf in live):
            top.event_manager.remove_task(task)


def _renew_id(task) -> None:
    workflow, old = task.workflow, task.id
    task.id = uuid4()
    workflow.tasks[task.id] = workflow.tasks.pop(old)
    parent = task.parent
    if parent is not None:
        parent._children[parent._children.index(old)] = task.id
    for child in task.children:
        child._parent = task.id
    if workflow.last_task is task:
        workflow.last_task = None
