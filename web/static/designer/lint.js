// bpmnlint in the modeler (bpmn-js-bpmnlint): bpmnlint's recommended rules plus our own, with a
// hand-written resolver in place of bpmnlint-pack-config's compile step. Rule names without a
// prefix are bpmnlint's own; `rectify/…` are ours (package bpmnlint-plugin-rectify). Advisory only:
// the server's check (校验) decides what may be deployed.
import recommended from 'bpmnlint/config/recommended';
import { is } from 'bpmnlint-utils';

const BUILTIN = {
  'ad-hoc-sub-process': require('bpmnlint/rules/ad-hoc-sub-process'),
  'conditional-flows': require('bpmnlint/rules/conditional-flows'),
  'end-event-required': require('bpmnlint/rules/end-event-required'),
  'event-based-gateway': require('bpmnlint/rules/event-based-gateway'),
  'event-sub-process-typed-start-event': require('bpmnlint/rules/event-sub-process-typed-start-event'),
  'fake-join': require('bpmnlint/rules/fake-join'),
  'global': require('bpmnlint/rules/global'),
  'label-required': require('bpmnlint/rules/label-required'),
  'link-event': require('bpmnlint/rules/link-event'),
  'no-bpmndi': require('bpmnlint/rules/no-bpmndi'),
  'no-complex-gateway': require('bpmnlint/rules/no-complex-gateway'),
  'no-disconnected': require('bpmnlint/rules/no-disconnected'),
  'no-duplicate-sequence-flows': require('bpmnlint/rules/no-duplicate-sequence-flows'),
  'no-gateway-join-fork': require('bpmnlint/rules/no-gateway-join-fork'),
  'no-implicit-split': require('bpmnlint/rules/no-implicit-split'),
  'no-implicit-end': require('bpmnlint/rules/no-implicit-end'),
  'no-implicit-start': require('bpmnlint/rules/no-implicit-start'),
  'no-inclusive-gateway': require('bpmnlint/rules/no-inclusive-gateway'),
  'no-overlapping-elements': require('bpmnlint/rules/no-overlapping-elements'),
  'single-blank-start-event': require('bpmnlint/rules/single-blank-start-event'),
  'single-event-definition': require('bpmnlint/rules/single-event-definition'),
  'start-event-required': require('bpmnlint/rules/start-event-required'),
  'sub-process-blank-start-event': require('bpmnlint/rules/sub-process-blank-start-event'),
  'superfluous-gateway': require('bpmnlint/rules/superfluous-gateway'),
  'superfluous-label': require('bpmnlint/rules/superfluous-label'),
  'superfluous-termination': require('bpmnlint/rules/superfluous-termination')
};

function spiffProperty(node, name) {
  const ext = node.extensionElements;
  const props = ext && (ext.values || []).find((v) => v.$type === 'spiffworkflow:Properties');
  const found = props && (props.properties || []).find((p) => p.name === name);
  return found ? found.value : undefined;
}

// A user task names its form (spiffworkflow:property formJsonSchemaFilename), as the server requires.
function userTaskForm() {
  return {
    check(node, reporter) {
      if (is(node, 'bpmn:UserTask') && !spiffProperty(node, 'formJsonSchemaFilename')) {
        reporter.report(node.id, '用户任务未指定表单（「整改流程」中的表单）');
      }
    }
  };
}

// A user task sits in a lane named after a role: the lane decides who does it.
function userTaskInLane() {
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:Process') && !is(node, 'bpmn:SubProcess')) return;
      const inLane = new Set();
      const walk = (laneSet) => (laneSet && laneSet.lanes || []).forEach((lane) => {
        (lane.flowNodeRef || []).forEach((ref) => inLane.add(ref.id));
        walk(lane.childLaneSet);
      });
      (node.laneSets || []).forEach(walk);
      if (is(node, 'bpmn:SubProcess')) return; // its lanes are its parent's
      (node.flowElements || []).forEach((el) => {
        if (is(el, 'bpmn:UserTask') && !inLane.has(el.id)) reporter.report(el.id, '用户任务不在任何泳道中，无法确定办理人');
      });
    }
  };
}

const OWN = { 'user-task-form': userTaskForm, 'user-task-in-lane': userTaskInLane };

const resolver = {
  resolveRule(pkg, ruleName) {
    const rule = pkg === 'bpmnlint' ? BUILTIN[ruleName] : pkg === 'bpmnlint-plugin-rectify' ? OWN[ruleName] : undefined;
    if (!rule) throw new Error(`cannot resolve rule <${pkg}/${ruleName}>`);
    return rule.default || rule;
  },
  resolveConfig(pkg, configName) {
    throw new Error(`cannot resolve config <${configName}> in <${pkg}>`);
  }
};

const config = {
  rules: { ...recommended.rules, 'rectify/user-task-form': 'error', 'rectify/user-task-in-lane': 'error' }
};

export default { config, resolver };
