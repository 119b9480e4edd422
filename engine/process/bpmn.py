"""BPMN specs: parsing with SpiffWorkflow, the extension properties we read, and instance
(de)serialization that keeps the spec out of every instance (it is stored once per version)."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

# spiffworkflow:property names the engine understands (documented in workflows/README.md).
PROP_FORM = "formJsonSchemaFilename"
PROP_SIGNOFF = "signoff"
PROP_REVIEWS = "reviews"
PROP_ITEM_STATUS = "itemStatus"
PROP_DUE = "due"


def properties_of(task_spec) -> dict[str, str]:
    extensions = getattr(task_spec, "extensions", None) or {}
    return dict(extensions.get("properties") or {})


def form_key_of(task_spec) -> str | None:
    filename = properties_of(task_spec).get(PROP_FORM)
    if not filename:
        return None
    return filename[:-5] if filename.endswith(".json") else filename


def is_signoff(task_spec) -> bool:
    return properties_of(task_spec).get(PROP_SIGNOFF, "").strip().lower() == "true"


def reviewed_ids(task_spec) -> list[str]:
    raw = properties_of(task_spec).get(PROP_REVIEWS, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def step_name(task_spec) -> str:
    name = getattr(task_spec, "bpmn_name", None)
    if not name and isinstance(task_spec, LoopTask):  # a multi-instance is named on its element
        name = getattr(task_spec._wf_spec.task_specs.get(task_spec.task_spec), "bpmn_name", None)
    return name or task_spec.name


def step_id(task_spec) -> str:
    return getattr(task_spec, "bpmn_id", None) or task_spec.name


def loop_of(task):
    """The multi-instance (loop) task spec whose element `task` is, or None. (Its parent alone does
    not say: compaction may keep a finished multi-instance task as the parent of the next step.)"""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    return spec if isinstance(spec, LoopTask) and spec.task_spec == task.task_spec.name else None


def parse_process(xml: bytes, file_name: str) -> tuple[str, Any, dict]:
    """Parse one BPMN file holding one executable process: (process id, spec, subprocess specs)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, filename=file_name)
    ids = parser.get_process_ids()
    if len(ids) != 1:
        raise ValueError(f"{file_name} 应当恰好包含一个可执行流程，实际为 {len(ids)} 个")
    process_id = ids[0]
    spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    for process_spec in [spec, *subprocess_specs.values()]:
        _connect_loop_children(process_spec)
    return process_id, spec, subprocess_specs


def _connect_loop_children(process_spec) -> None:
    """Wire each multi-instance/loop task to hear its children complete, as SpiffWorkflow's spec
    deserializer does. A freshly parsed spec only gets that wiring when a child is created in this
    process, and we never deserialize specs (they are parsed once per version): without it, a
    process that restored an instance mid-way through 建章立制 never merged the remaining children
    and the item stalled."""
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child_spec = process_spec.task_specs[task_spec.task_spec]
            if not child_spec.completed_event.is_connected(task_spec.merge_child):
                child_spec.completed_event.connect(task_spec.merge_child)


@dataclass
class LoadedVersion:
    version_id: int
    process_id: str
    spec: Any
    subprocess_specs: dict
    forms: dict[str, dict] = field(default_factory=dict)


class _InstanceConverter(BpmnWorkflowConverter):
    """The stock converter, minus the spec: it is restored from the version cache instead."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value):
    from uuid import UUID
    return UUID(value)


class ProcessRuntime:
    """Builds, loads and saves SpiffWorkflow instances for one engine (parser, serializer and script
    environment injected once, as in spiff-example-cli)."""

    def __init__(self, script_functions: dict[str, Callable]):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _InstanceConverter
        self._registry = BpmnWorkflowSerializer.configure(config)
        self._serializer = BpmnWorkflowSerializer(self._registry)
        self._script_functions = script_functions
        self._cache: dict[int, LoadedVersion] = {}
        self._lock = threading.Lock()

    @property
    def registry(self):
        """The serializer registry, which SpiffWorkflow's spec diff compares task specs with."""
        return self._registry

    def script_engine(self) -> PythonScriptEngine:
        return PythonScriptEngine(environment=TaskDataEnvironment(dict(self._script_functions)))

    def version(self, version_id: int, loader: Callable[[], tuple[str, str, str, dict]]) -> LoadedVersion:
        """The parsed spec of a deployed version, parsed once per process lifetime."""
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        xml, file_name, _process_id, forms = loader()
        process_id, spec, subprocess_specs = parse_process(xml.encode("utf-8"), file_name)
        loaded = LoadedVersion(version_id, process_id, spec, subprocess_specs, forms)
        with self._lock:
            self._cache.setdefault(version_id, loaded)
        return self._cache[version_id]

    def new_workflow(self, version: LoadedVersion, data: dict) -> BpmnWorkflow:
        workflow = BpmnWorkflow(version.spec, version.subprocess_specs, script_engine=self.script_engine())
        workflow.task_tree.data.update(data)
        return workflow

    def dumps(self, workflow: BpmnWorkflow) -> str:
        # The registry's encoder mode is a shared flag, hence the lock (web servers run threads).
        with self._lock:
            self._registry._encoder_mode = True
            try:
                dct = self._serializer.to_dict(workflow)
            finally:
                self._registry._encoder_mode = False
        dct[self._serializer.VERSION_KEY] = self._serializer.VERSION
        return json.dumps(dct, cls=self._serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))

    def loads(self, state: str, version: LoadedVersion) -> BpmnWorkflow:
        dct = json.loads(state)
        self._serializer.migrate(dct)
        workflow = self._serializer.from_dict(dct, spec=version.spec, subprocess_specs=version.subprocess_specs)
        workflow.script_engine = self.script_engine()
        return workflow
