// The modeler in Chinese. bpmn-js, its properties panel and bpmn-js-bpmnlint ask one `translate`
// service for every word they show (bpmn-js-bpmnlint passes each rule's message through it too):
// bpmn-js's and the panel's words come from bpmn-js-i18n-zh, bpmnlint's messages from the table
// below, and this product's own words win where they differ (OWN). Names from the diagram that a
// message carries are never rewritten.
import bpmn from 'bpmn-js-i18n-zh/lib/bpmn-js';
import panel from 'bpmn-js-i18n-zh/lib/properties-panel';

// bpmnlint's recommended rules (bpmnlint 11), by their English message.
const LINT = {
  'Element is missing bpmndi': '元素缺少图形信息（bpmndi），在图上看不到',
  'Element is outside of parent boundary': '元素超出了所在容器的边界',
  'Element overlaps with other element': '元素与其他元素重叠',
  'A <Sequence Flow> outgoing from an <Event-based Gateway> must not be conditional': '从事件网关流出的顺序流不能带条件',
  'Sequence flow is missing condition': '顺序流缺少条件',
  'A <Start Event> is not allowed in <Ad Hoc Sub Process>': '临时子流程中不能有开始事件',
  'An <End Event> is not allowed in <Ad Hoc Sub Process>': '临时子流程中不能有结束事件',
  'Start event is missing event definition': '开始事件缺少事件定义',
  'Start event must be blank': '开始事件必须是空白开始事件',
  'Link event is missing link name': '链接事件缺少链接名称',
  'An <Event-based Gateway> must have at least 2 outgoing <Sequence Flows>': '事件网关至少要有两条流出的顺序流',
  'Conditional event is missing a condition': '条件事件缺少条件',
  'Element is an implicit end': '元素没有流出的顺序流（隐式结束）：请连到结束事件',
  'Element is an implicit start': '元素没有流入的顺序流（隐式开始）：请从开始事件连入',
  'Element is missing label/name': '元素缺少名称',
  'Element is not connected': '元素没有与流程连接',
  'Event has multiple event definitions': '事件有多个事件定义',
  'Flow splits implicitly': '多条流出的顺序流没有经过网关（隐式分支）',
  'Gateway forks and joins': '网关同时分支和汇合：请拆成两个网关',
  'Gateway is superfluous. It only has one source and target.': '网关多余：只有一个来源和一个去向',
  'Incoming flows do not join': '多条流入的顺序流没有经过网关汇合',
  'Sequence flow has superfluous label': '顺序流的名称多余',
  'SequenceFlow is a duplicate': '顺序流重复',
  'Termination is superfluous.': '终止结束事件多余',
  'Element is missing name': '元素缺少名称',
  'Element is unused': '元素未被使用',
  'Element name is not unique': '元素名称重复',
  'Duplicate outgoing sequence flows': '流出的顺序流重复',
  'Duplicate incoming sequence flows': '流入的顺序流重复',
  // bpmn-js-bpmnlint's own
  'Issues for child elements': '子元素的问题',
  'Toggle linting overlays': '显示或隐藏检查结果',
  '{errors} Errors, {warnings} Warnings': '{errors} 个错误，{warnings} 个警告',
  'No Issues': '未发现问题'
};

const SCOPE = { 'Process': '流程', 'Sub process': '子流程' };

// Messages with a part filled in: [pattern, Chinese with $1 …].
const LINT_PATTERNS = [
  [ /^Element type <(.+)> is discouraged$/, '不建议使用 $1 类型的元素' ],
  [ /^(Process|Sub process) is missing end event$/, (_, scope) => `${SCOPE[scope]}缺少结束事件` ],
  [ /^(Process|Sub process) is missing start event$/, (_, scope) => `${SCOPE[scope]}缺少开始事件` ],
  [ /^(Process|Sub process) has multiple blank start events$/, (_, scope) => `${SCOPE[scope]}有多个空白开始事件` ],
  [ /^Duplicate link catch event with link name <(.*)> in scope$/, '同一范围内有多个名为「$1」的链接捕获事件' ],
  [ /^Link (catch|throw) event with link name <(.*)> missing in scope$/,
    (_, kind, name) => `同一范围内缺少名为「${name}」的链接${kind === 'catch' ? '捕获' : '抛出'}事件` ]
];

// This product's words, where the package's differ or it has none: a lane is a 泳道 (the package says
// 通道, and uses 泳道 for a pool, which is a 池 elsewhere), a participant is not 协助; and the panel's
// header names types the package does not (Lane, Participant, Sub Process).
const OWN = {
  'Empty pool/participant': '空池/参与者',
  'Empty pool/participant (removes content)': '清空池/参与者（删除内容）',
  'Participant Name': '参与者名称',
  'Participant ID': '参与者 ID',
  'Lane': '泳道',
  'Participant': '池/参与者',
  'Process': '流程',
  'Sub Process': '子流程',
  'Condition expression': '条件表达式',
  'Inputs': '输入',
  'Outputs': '输出'
};

const lanes = (table) => Object.fromEntries(Object.entries(table).map(([ key, text ]) => [ key, text.replace(/通道/g, '泳道') ]));

// A Map: a plain object would answer "constructor" or "toString" with a function.
const TABLE = new Map(Object.entries({ ...lanes(bpmn), ...lanes(panel), ...LINT, ...OWN }));

// The panel's header names the element's type in Title Case (User Task); the tables have it in
// sentence case (User task).
const sentenceCase = (words) => words.charAt(0) + words.slice(1).toLowerCase();

export function translate(template, replacements) {
  let text = TABLE.get(template) ?? TABLE.get(sentenceCase(template));
  if (text === undefined) {
    const found = LINT_PATTERNS.find(([ pattern ]) => pattern.test(template));
    text = found ? template.replace(found[0], found[1]) : template;
  }
  return text.replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
}

export default { translate: [ 'value', translate ] };
