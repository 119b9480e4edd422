// The process designer's modeler page: bpmn-js with the stock properties panel and our group
// 「整改流程」, checking and deploying through the server (web/designer.py).
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import spiffworkflow from './spiffworkflow.json';
import RectifyPropertiesProvider from './provider';
import lintModule from 'bpmn-js-bpmnlint';
import bpmnlintConfig from './lint';
import TranslateModule from './translate';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import './designer.css';

const RectifyModule = { __init__: [ 'rectifyPropertiesProvider' ], rectifyPropertiesProvider: [ 'type', RectifyPropertiesProvider ] };

const data = JSON.parse(document.getElementById('designer-data').textContent);
window.RECTIFY_DESIGNER = data;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

const modeler = new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#properties' },
  additionalModules: [ TranslateModule, BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, RectifyModule, lintModule ],
  linting: { bpmnlint: bpmnlintConfig, active: true },
  moddleExtensions: { spiffworkflow }
});
window.rectifyModeler = modeler; // for the e2e test and the curious: the bpmn-js instance

let marked = [];

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function selectElement(id) {
  const element = modeler.get('elementRegistry').get(id);
  if (!element) return;
  modeler.get('selection').select(element);
  modeler.get('canvas').scrollToElement(element);
}

function showProblems(problems) {
  const canvas = modeler.get('canvas');
  marked.forEach((id) => { try { canvas.removeMarker(id, 'rectify-problem'); } catch (e) { /* gone */ } });
  marked = [];
  const list = $('problems');
  list.replaceChildren();
  problems.forEach((p) => {
    const li = document.createElement('li');
    li.className = 'list-group-item list-group-item-danger problem';
    if (p.element && modeler.get('elementRegistry').get(p.element)) {
      const button = text('button', p.element, 'btn btn-link btn-sm p-0 me-2 align-baseline problem-element');
      button.type = 'button';
      button.addEventListener('click', () => selectElement(p.element));
      li.append(button);
      canvas.addMarker(p.element, 'rectify-problem');
      marked.push(p.element);
    } else if (p.element) {
      li.append(text('code', p.element + ' ', 'me-2'));
    }
    li.append(document.createTextNode(p.message));
    list.append(li);
  });
}

function showPreview(preview) {
  const box = $('preview');
  box.replaceChildren();
  if (!preview.valid) {
    box.append(text('p', `校验未通过：${preview.problems.length} 个问题（点击元素 id 可在图中选中它）。不能部署。`, 'text-danger mb-0'));
    return;
  }
  box.append(text('p', '校验通过。', 'text-success mb-1 fw-bold'));
  if (preview.unchanged) box.append(text('p', '与当前版本内容相同：部署不会产生新版本。', 'mb-1'));
  else if (preview.existing_version) box.append(text('p', `与已有版本 ${preview.existing_version} 相同：部署会把它恢复为当前版本。`, 'mb-1'));
  const steps = preview.steps || {};
  [ [ 'added', '新增环节' ], [ 'removed', '删除环节' ], [ 'changed', '修改环节' ] ].forEach(([ key, label ]) => {
    if ((steps[key] || []).length) box.append(text('p', `${label}：${steps[key].join('、')}`, 'mb-1 small'));
  });
  if (preview.needs_approval) {
    box.append(text('p', `新增或修改了脚本（${preview.scripts.map((s) => `${s.change} ${s.name}`).join('、')}）：部署后须由另一位流程设计或管理员批准才生效。`, 'mb-1 text-warning-emphasis fw-bold needs-approval'));
  }
  box.append(text('p', `运行中的问题 ${preview.items_running} 项保留原版本（可在迁移页面迁移）。`, 'mb-0 small text-muted'));
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf }, body: JSON.stringify(body)
  });
  return { ok: response.ok, body: await response.json() };
}

async function check() {
  const { xml } = await modeler.saveXML({ format: true });
  $('status').textContent = '正在校验…';
  const { ok, body } = await post(data.check_url, { file_name: data.file_name, xml });
  $('status').textContent = '';
  if (!ok) { showProblems([ { element: '', message: body.error } ]); return null; }
  showProblems(body.problems || []);
  showPreview(body);
  return { xml, preview: body };
}

async function deploy(event) {
  event.preventDefault();
  const comment = $('comment').value.trim();
  if (!comment) { $('comment').classList.add('is-invalid'); $('comment').focus(); return; }
  $('comment').classList.remove('is-invalid');
  const checked = await check();
  if (!checked || !checked.preview.valid) return;
  const { ok, body } = await post(data.deploy_url, { file_name: data.file_name, xml: checked.xml, comment });
  const result = $('result');
  result.replaceChildren();
  if (!ok) {
    result.append(text('div', body.error + (body.fields ? ' ' + Object.values(body.fields).join('；') : ''), 'alert alert-danger mb-0'));
    return;
  }
  const message = { deployed: `已部署：版本 ${body.version_id} 成为当前版本。`,
    pending: `已提交部署申请 ${body.request_id}：含新增或修改的脚本，须由另一位流程设计或管理员批准。`,
    unchanged: '内容与当前版本相同，未产生新版本。' }[body.status];
  const alert = text('div', message + ' ', 'alert alert-success mb-0 deploy-result');
  const link = text('a', '返回流程列表');
  link.href = data.index_url;
  alert.append(link);
  result.append(alert);
}

$('check').addEventListener('click', check);
$('deploy-form').addEventListener('submit', deploy);
$('download').addEventListener('click', async () => {
  const { xml } = await modeler.saveXML({ format: true });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([ xml ], { type: 'application/xml' }));
  a.download = data.file_name;
  a.click();
});

modeler.importXML(data.xml).then(() => {
  modeler.get('canvas').zoom('fit-viewport');
  document.body.dataset.modelerReady = '1';
}).catch((error) => {
  showProblems([ { element: '', message: '流程图无法打开：' + error.message } ]);
});
