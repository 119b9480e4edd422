// Reading and writing what the engine reads from a BPMN element (workflows/README.md):
// <spiffworkflow:properties><spiffworkflow:property name=… value=…/></spiffworkflow:properties>
// inside bpmn:extensionElements, and the expression of a timer event definition.

export const PROP = {
  form: 'formJsonSchemaFilename',
  signoff: 'signoff',
  reviews: 'reviews',
  due: 'due',
  itemStatus: 'itemStatus'
};

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  return ext && (ext.get('values') || []).find((v) => v.$type === 'spiffworkflow:Properties');
}

export function getProperty(element, name) {
  const props = propertiesOf(element.businessObject);
  const found = props && (props.get('properties') || []).find((p) => p.name === name);
  return found ? (found.value || '') : '';
}

// Set (or, with an empty value, remove) one property; every change goes through the command stack (undo).
export function setProperty(injector, element, name, value) {
  const modeling = injector.get('modeling');
  const bpmnFactory = injector.get('bpmnFactory');
  const bo = element.businessObject;
  value = (value || '').trim();
  let ext = bo.get('extensionElements');
  if (!ext) {
    if (!value) return;
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    modeling.updateProperties(element, { extensionElements: ext });
  }
  let props = propertiesOf(bo);
  if (!props) {
    if (!value) return;
    props = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    modeling.updateModdleProperties(element, ext, { values: [ ...(ext.get('values') || []), props ] });
  }
  const list = props.get('properties') || [];
  const existing = list.find((p) => p.name === name);
  if (!value) {
    if (existing) modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== existing) });
  } else if (existing) {
    modeling.updateModdleProperties(element, existing, { value });
  } else {
    const property = bpmnFactory.create('spiffworkflow:Property', { name, value });
    modeling.updateModdleProperties(element, props, { properties: [ ...list, property ] });
  }
}

export const TIMER_KINDS = [ 'timeDate', 'timeDuration', 'timeCycle' ];

export function timerOf(element) {
  return (element.businessObject.get('eventDefinitions') || []).find((d) => d.$type === 'bpmn:TimerEventDefinition');
}

export function timerKind(definition) {
  return TIMER_KINDS.find((k) => definition.get(k)) || 'timeDate';
}

export function timerExpression(definition) {
  const expression = definition.get(timerKind(definition));
  return expression ? (expression.body || '') : '';
}

export function setTimer(injector, element, kind, body) {
  const modeling = injector.get('modeling');
  const bpmnFactory = injector.get('bpmnFactory');
  const definition = timerOf(element);
  const changes = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
  changes[kind] = bpmnFactory.create('bpmn:FormalExpression', { body: (body || '').trim() });
  modeling.updateModdleProperties(element, definition, changes);
}

export function laneOf(element) {
  const lanes = element.businessObject.get('lanes') || [];
  return lanes.length ? (lanes[lanes.length - 1].name || lanes[lanes.length - 1].id) : '';
}
