// The analyst's side panel: check problems, verification findings, test results with coverage.
import { h, clear } from './dom.js';

export function renderPanel(el, analysis, { locate }) {
  if (!analysis) return clear(el, h('p', {}, 'Analysing...'));
  const where = (loc = {}) => [loc.element, loc.rule && `rule ${loc.rule}`, loc.column && `column ${loc.column}`].filter(Boolean).join(', ');
  const problems = analysis.problems.map((p) => h('li', { class: `sev-${p.severity}` },
    h('button', { class: 'link', 'aria-label': `Show ${where(p.location)}`, onclick: () => locate(p.location?.element) }, where(p.location) || 'model'),
    `: ${p.severity}: ${p.message}`));
  const rank = { error: 0, warning: 1, info: 2 };
  const sorted = [...analysis.findings].sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3));
  const findingItem = (f) => h('li', { class: `sev-${f.severity} finding`, 'data-kind': f.kind },
    h('button', { class: 'link', 'aria-label': `Show ${f.decision}`, onclick: () => locate(f.decision) }, f.decision),
    `: ${f.kind}: ${f.message}`);
  const important = sorted.filter((f) => f.severity !== 'info').map(findingItem);
  const notes = sorted.filter((f) => f.severity === 'info').map(findingItem);
  const t = analysis.tests;
  const failed = t.results.filter((r) => !r.ok).length;
  const tests = t.results.map((r) => h('li', { class: r.ok ? 'pass' : 'fail test-fail' },
    `${r.ok ? 'pass' : 'FAIL'}: ${r.name}`, r.failures.length ? h('ul', {}, r.failures.map((f) => h('li', {}, f))) : null));
  const coverage = t.coverage.map((c) => h('li', {}, `${c.decision}: ${c.covered}/${c.total} rules fired`,
    c.missed.length ? ` (never: ${c.missed.join(', ')})` : ''));
  return clear(el,
    h('section', { 'aria-labelledby': 'h-problems' }, h('h3', { id: 'h-problems' }, `Check: ${analysis.problems.length} problem(s)`),
      analysis.loaded ? null : h('p', { class: 'error' }, 'The model does not load.'), h('ul', {}, problems)),
    h('section', { 'aria-labelledby': 'h-tests' }, h('h3', { id: 'h-tests' },
      t.given ? `Tests: ${t.results.length - failed} passed, ${failed} failed` : 'Tests: this version has none'),
    t.error ? h('p', { class: 'error' }, t.error) : null, h('ul', { id: 'tests' }, tests.filter((li) => li.classList.contains('fail'))),
    t.results.length - failed ? h('details', {}, h('summary', {}, `${t.results.length - failed} passing case(s)`), h('ul', {}, tests.filter((li) => !li.classList.contains('fail')))) : null,
    coverage.length ? h('h4', {}, 'Rule coverage') : null, h('ul', {}, coverage)),
    h('section', { 'aria-labelledby': 'h-findings', id: 'findings' }, h('h3', { id: 'h-findings' },
      `Verification: ${important.length} warning(s) or error(s), ${notes.length} note(s)`),
    h('ul', {}, important), notes.length ? h('details', {}, h('summary', {}, `${notes.length} note(s): overlaps a hit policy resolves, gaps for null inputs`), h('ul', {}, notes)) : null));
}

// A form from the JSON schema of the inputs (api/typed.py): enums become selects.
export function inputForm(schema, onSubmit) {
  const props = schema?.properties || {};
  const defs = schema?.$defs || {};
  const fields = Object.entries(props).map(([name, prop]) => {
    const kind = describe(prop, defs);
    const id = `in-${name.replace(/\W+/g, '-')}`;
    const control = kind.enum
      ? h('select', { id, name }, h('option', { value: '' }, '(null)'), kind.enum.map((v) => h('option', { value: v }, v)))
      : h('input', { id, name, type: kind.type === 'number' ? 'number' : 'text', step: 'any', placeholder: kind.type });
    control.dataset.kind = kind.type;
    return h('div', { class: 'field' }, h('label', { for: id }, name), control);
  });
  const form = h('form', { class: 'try-form', 'aria-label': 'Try the model' }, fields,
    h('button', { type: 'submit' }, 'Evaluate'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const inputs = {};
    for (const el of form.querySelectorAll('input, select')) {
      if (el.value === '') { inputs[el.name] = null; continue; }
      if (el.dataset.kind === 'number') inputs[el.name] = Number(el.value);
      else if (el.dataset.kind === 'boolean') inputs[el.name] = el.value === 'true';
      else if (el.dataset.kind === 'object' || el.dataset.kind === 'array') {
        try { inputs[el.name] = JSON.parse(el.value); } catch { inputs[el.name] = el.value; }
      } else inputs[el.name] = el.value;
    }
    onSubmit(inputs);
  });
  return form;
}

function describe(prop, defs) {
  const options = prop.anyOf || [prop];
  for (const option of options) {
    const target = option.$ref ? defs[option.$ref.split('/').pop()] : option;
    if (!target || target.type === 'null') continue;
    if (target.enum) return { type: 'string', enum: target.enum };
    if (target.type) return { type: target.type };
  }
  return { type: 'any' };
}
