// The dmn-js modeler (DRD, decision tables, literal expressions) with the studio's overlays:
// fired rules and located problems are marked by CSS rules keyed on dmn-js's row and column
// ids, so they survive the table's re-renders.
import DmnModeler from 'dmn-js/lib/Modeler';
import { forEditor, fromEditor } from './dmnformat.js';
import { h, clear } from './dom.js';

export class Editor {
  constructor(container, { onChange }) {
    this.tabs = h('div', { class: 'view-tabs', role: 'tablist', 'aria-label': 'Views of the model' });
    this.canvas = h('div', { class: 'canvas' });
    this.marks = h('style');
    document.head.append(this.marks);
    clear(container, this.tabs, this.canvas);
    this.modeler = new DmnModeler({ container: this.canvas });
    this.onChange = onChange;
    this.watched = new WeakSet();
    this.original = null;
    this.modeler.on('views.changed', () => { this.renderTabs(); this.watch(); this.fit(); });
  }

  // Opens `xml`; a model dmn-js cannot read throws an Error whose message says where.
  async open(xml) {
    const { xml: editable, original } = await forEditor(xml);
    this.original = original;
    try {
      const { warnings } = await this.modeler.importXML(editable);
      this.warnings = warnings.map((w) => w.message);
    } catch (err) {
      const where = [...new Set([err.message, ...(err.warnings || []).map((w) => w.message)].filter(Boolean).map(brief))];
      throw new Error(`dmn-js cannot read this model: ${where.join('; ')}`);
    }
    const table = this.modeler.getViews().find((v) => v.type === 'decisionTable');
    if (table) await this.modeler.open(table);
  }

  async xml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return fromEditor(xml, this.original);
  }

  watch() {
    const viewer = this.modeler.getActiveViewer();
    if (viewer && !this.watched.has(viewer)) {
      this.watched.add(viewer);
      viewer.on('elements.changed', () => this.onChange());
    }
  }

  fit() {
    const view = this.modeler.getActiveView();
    if (view?.type === 'drd') this.modeler.getActiveViewer().get('canvas').zoom('fit-viewport');
  }

  renderTabs() {
    const active = this.modeler.getActiveView();
    clear(this.tabs, this.modeler.getViews().map((view) => h('button', {
      role: 'tab', class: 'tab', 'aria-selected': String(active && view.element === active.element),
      'data-view': view.element.name || view.element.id,
      onclick: () => this.modeler.open(view),
    }, `${view.element.name || view.element.id} (${labels[view.type] || view.type})`)));
  }

  async openDecision(name) {
    const view = this.modeler.getViews().find((v) => v.type !== 'drd' && v.element.name === name);
    if (view) await this.modeler.open(view);
  }

  // The decision table of decision `name`: its rule ids by position, its column ids by label.
  table(name) {
    const definitions = this.modeler.getDefinitions();
    const decision = (definitions?.drgElement || []).find((e) => e.$type === 'dmn:Decision' && e.name === name);
    const logic = decision?.decisionLogic;
    if (!logic || logic.$type !== 'dmn:DecisionTable') return null;
    const columns = {};
    for (const input of logic.input || []) {
      for (const label of [input.label, input.inputExpression?.text]) if (label) columns[label] = input.id;
    }
    for (const output of logic.output || []) {
      for (const label of [output.label, output.name]) if (label) columns[label] = output.id;
    }
    if ((logic.output || []).length === 1) columns[name] = logic.output[0].id;
    return { rules: (logic.rule || []).map((r) => r.id), columns };
  }

  // fired: {decision: [rule numbers]}; problems: [{decision, rule, column}]
  mark({ fired = {}, problems = [] } = {}) {
    const css = [];
    for (const [decision, rules] of Object.entries(fired)) {
      const table = this.table(decision);
      for (const n of rules) {
        const id = table?.rules[n - 1];
        if (id) css.push(`td[data-row-id="${CSS.escape(id)}"] { background: #d9f2d9 !important; }`);
      }
    }
    for (const p of problems) {
      const table = this.table(p.decision);
      const row = p.rule ? table?.rules[p.rule - 1] : null;
      const col = p.column ? table?.columns[p.column] : null;
      if (row && col) css.push(`td[data-row-id="${CSS.escape(row)}"][data-col-id="${CSS.escape(col)}"] { outline: 2px solid #c00; outline-offset: -2px; }`);
      else if (row) css.push(`td[data-row-id="${CSS.escape(row)}"] { box-shadow: inset 0 -2px 0 #c00; }`);
    }
    this.marks.textContent = css.join('\n');
  }

  destroy() {
    this.modeler.destroy();
    this.marks.remove();
  }
}

const labels = { drd: 'DRD', decisionTable: 'table', literalExpression: 'literal expression', boxedExpression: 'boxed expression' };

// dmn-moddle's messages quote the whole unreadable text: keep where it stopped and why.
function brief(message) {
  const line = /line: (\d+)/.exec(message);
  const column = /column: (\d+)/.exec(message);
  const nested = /nested error: ([^)\n]*)/.exec(message);
  const parts = [line && `line ${line[1]}`, column && `column ${column[1]}`, nested && nested[1]].filter(Boolean);
  return parts.length ? parts.join(', ') : message.slice(0, 300);
}
