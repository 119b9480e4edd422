// Our own properties-panel group 「整改流程」: what the engine reads from tasks and events, with
// Chinese labels and help (workflows/README.md is the reference).
import { CheckboxEntry, SelectEntry, TextFieldEntry, TextAreaEntry } from '@bpmn-io/properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { PROP, TIMER_KINDS, getProperty, laneOf, setProperty, setTimer, timerExpression, timerKind, timerOf } from './properties';

const ROLES = [ '责任人', '责任单位负责人', '分管领导', '主要领导', '整改办', '纪检监察' ];
const TIMER_LABELS = { timeDate: '时间点 timeDate', timeDuration: '时长 timeDuration', timeCycle: '周期 timeCycle' };

export default function RectifyPropertiesProvider(propertiesPanel, injector) {
  this._injector = injector;
  propertiesPanel.registerProvider(400, this);
}
RectifyPropertiesProvider.$inject = [ 'propertiesPanel', 'injector' ];

RectifyPropertiesProvider.prototype.getGroups = function(element) {
  const injector = this._injector;
  return (groups) => {
    const entries = entriesFor(element, injector);
    if (entries.length) {
      const group = { id: 'rectify', label: '整改流程', entries };
      const general = groups.findIndex((g) => g.id === 'general');
      groups.splice(general + 1, 0, group);
    }
    return groups;
  };
};

function forms() {
  return window.RECTIFY_DESIGNER ? window.RECTIFY_DESIGNER.forms : [];
}

function propertyText(injector, element, name, label, description) {
  const debounce = injector.get('debounceInput');
  return {
    id: 'rectify-' + name,
    element,
    isEdited: () => !!getProperty(element, name),
    component: (props) => TextFieldEntry({
      element, id: props.id, label, description, debounce,
      getValue: () => getProperty(element, name),
      setValue: (value) => setProperty(injector, element, name, value)
    })
  };
}

function userTaskEntries(element, injector) {
  const lane = laneOf(element);
  return [
    {
      id: 'rectify-role', element,
      component: (props) => TextFieldEntry({
        element, id: props.id, label: '办理角色（泳道）', disabled: true,
        description: (lane && ROLES.includes(lane)) ? '角色由任务所在的泳道决定：要换角色，请把图形拖进另一个泳道。'
          : '该任务不在任何角色泳道中：请把它拖进 ' + ROLES.join('、') + ' 之一的泳道。',
        debounce: (fn) => fn, getValue: () => lane || '（不在泳道中）', setValue: () => {}
      })
    },
    {
      id: 'rectify-form', element, isEdited: () => !!getProperty(element, PROP.form),
      component: (props) => SelectEntry({
        element, id: props.id, label: '表单（forms/ 中的文件）',
        description: '办理人填写的表单，formJsonSchemaFilename。每个用户任务都必须有表单。',
        getValue: () => getProperty(element, PROP.form),
        setValue: (value) => setProperty(injector, element, PROP.form, value),
        getOptions: () => [ { value: '', label: '（请选择表单）' } ].concat(forms().map((f) => ({ value: f, label: f })))
      })
    },
    {
      id: 'rectify-signoff', element, isEdited: () => !!getProperty(element, PROP.signoff),
      component: (props) => CheckboxEntry({
        element, id: props.id, label: '签字关口（谁签字谁负责）',
        description: 'signoff = true：须输入密码确认并留下签字记录；其后须紧接一个按 decision 分支的排他网关。',
        getValue: () => getProperty(element, PROP.signoff) === 'true',
        setValue: (value) => setProperty(injector, element, PROP.signoff, value ? 'true' : '')
      })
    },
    propertyText(injector, element, PROP.reviews, '审核的环节',
      '签字关口所审核环节的 id，逗号分隔（如 fix_task）：办理这些环节的人不能在此签字。'),
    propertyText(injector, element, PROP.due, '办理期限表达式',
      '可选，Python 表达式，求值为日期（如 deadline 或 plan_due）；不填则为问题的整改期限。')
  ];
}

function statusEntries(element, injector) {
  return [ {
    id: 'rectify-item-status', element, isEdited: () => !!getProperty(element, PROP.itemStatus),
    component: (props) => SelectEntry({
      element, id: props.id, label: '问题状态（itemStatus）',
      description: '到达此事件时：「已销号」关闭问题并生成销号单；「整改中」重新打开（变量 deadline 成为新期限）。',
      getValue: () => getProperty(element, PROP.itemStatus),
      setValue: (value) => setProperty(injector, element, PROP.itemStatus, value),
      getOptions: () => [ { value: '', label: '（不改变）' }, { value: '已销号', label: '已销号' }, { value: '整改中', label: '整改中' } ]
    })
  } ];
}

function timerEntries(element, injector) {
  const debounce = injector.get('debounceInput');
  return [
    {
      id: 'rectify-timer-kind', element,
      component: (props) => SelectEntry({
        element, id: props.id, label: '定时器类型',
        getValue: () => timerKind(timerOf(element)),
        setValue: (kind) => setTimer(injector, element, kind, timerExpression(timerOf(element))),
        getOptions: () => TIMER_KINDS.map((k) => ({ value: k, label: TIMER_LABELS[k] }))
      })
    },
    {
      id: 'rectify-timer-expression', element, isEdited: () => !!timerExpression(timerOf(element)),
      component: (props) => TextAreaEntry({
        element, id: props.id, label: '定时器表达式', debounce, rows: 2,
        description: 'Python 表达式：timeDate 求值为日期时间（如 escalation_at），timeDuration 为 ISO 时长，字面量加引号（如 \'P1M\'）。',
        getValue: () => timerExpression(timerOf(element)),
        setValue: (value) => setTimer(injector, element, timerKind(timerOf(element)), value)
      })
    }
  ];
}

function entriesFor(element, injector) {
  if (is(element, 'bpmn:UserTask')) return userTaskEntries(element, injector);
  const entries = [];
  if ((is(element, 'bpmn:IntermediateThrowEvent') || is(element, 'bpmn:EndEvent'))) entries.push(...statusEntries(element, injector));
  if (is(element, 'bpmn:Event') && timerOf(element)) entries.push(...timerEntries(element, injector));
  return entries;
}
