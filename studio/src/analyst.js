// Analysts: models, versions, aliases and states; a version in dmn-js with the side panel;
// try-it; save as a new draft; submit for approval.
import { api, q, ApiError } from './api.js';
import { h, clear, text, debounce } from './dom.js';
import { renderPanel, inputForm } from './panel.js';
import { renderDiff } from './approver.js';
import { pagedTable } from './paging.js';

export async function modelsScreen(main) {
  const list = await pagedTable({ path: '/v1/models', items: 'models', label: 'Models', head: ['Key', 'Latest version', 'Registered by'],
    empty: 'No models are registered yet.',
    row: (m) => h('tr', {}, h('td', {}, h('a', { href: `#/models/${q(m.key)}` }, m.key)), h('td', {}, m.latest_number), h('td', {}, m.created_by)) });
  clear(main, h('h2', {}, 'Models'), list);
}

export async function modelScreen(main, key, who) {
  const model = await api(`/v1/models/${q(key)}`);
  const aliasesOf = (n) => model.aliases.filter((a) => a.number === n).map((a) => a.alias).join(', ');
  // The versions a page at a time, oldest first (the list route's order).
  const versions = await pagedTable({ path: `/v1/models/${q(key)}/versions`, items: 'versions', label: 'Versions',
    head: ['Version', 'State', 'Aliases', 'Author', 'Comment', ''],
    row: (v) => h('tr', { 'data-version': v.number },
      h('td', {}, v.number), h('td', {}, h('span', { class: `state state-${v.state}` }, v.state)),
      h('td', {}, aliasesOf(v.number)), h('td', {}, v.author), h('td', {}, v.comment || ''),
      h('td', {}, h('a', { href: `#/models/${q(key)}/versions/${v.number}`, 'aria-label': `Open version ${v.number}` }, 'Open'))) });
  clear(main, h('h2', {}, `Model ${key}`), versions,
    who.role === 'reviewer' || who.role === 'admin' ? h('p', {}, h('a', { href: `#/log/${q(key)}` }, 'Decision log of this model')) : null);
}

export async function versionScreen(main, key, number, who, { Editor }) {
  const version = await api(`/v1/models/${q(key)}/versions/${number}`);
  const content = await api(`/v1/models/${q(key)}/versions/${number}/content`, { raw: true });
  const cases = await api(`/v1/models/${q(key)}/versions/${number}/test-cases`, { raw: true });
  const status = h('p', { class: 'status', role: 'status' });
  const panel = h('div', { class: 'panel-body' });
  const tryOut = h('div', { class: 'try-out' });
  const editorHost = h('div', { class: 'editor', 'aria-label': 'Model editor' });
  const mayWrite = ['author', 'admin'].includes(who.role);
  const comment = h('input', { id: 'comment', type: 'text', placeholder: 'What changed and why', 'aria-label': 'Comment' });
  const saveButton = h('button', { id: 'save', disabled: !mayWrite, title: mayWrite ? null : `your role (${who.role}) may not save drafts` }, 'Save as new draft');
  const submitButton = h('button', { id: 'submit', disabled: !(mayWrite && version.state === 'draft'),
    title: version.state !== 'draft' ? `version ${number} is ${version.state}: only a draft can be submitted` : null }, 'Submit for approval');
  let current = { number, state: version.state };
  clear(main,
    h('div', { class: 'version-head' }, h('h2', {}, `${key} version ${number} `, h('span', { class: `state state-${version.state}` }, version.state)),
      h('div', { class: 'actions' }, comment, saveButton, submitButton), status),
    h('div', { class: 'workspace' }, editorHost,
      h('aside', { class: 'panel', 'aria-label': 'Checks, verification and tests' }, h('h2', {}, 'Analysis'), panel,
        h('h2', {}, 'Try it'), tryOut)));

  let editor;
  let lastFired = {};
  let lastProblems = [];
  const analyse = async (extra = {}) => {
    const body = { content: await editor.xml(), format: 'dmn', test_cases: cases || null, ...extra };
    return api('/v1/workbench/analyse', { method: 'POST', json: body });
  };
  let asked = 0; // answers to older edits that arrive late are dropped
  const refresh = async () => {
    const mine = ++asked;
    try {
      const analysis = await analyse();
      if (mine !== asked) return;
      lastProblems = analysis.problems.filter((p) => p.location?.element).map((p) => ({ decision: p.location.element, rule: p.location.rule, column: p.location.column }))
        .concat(analysis.findings.filter((f) => f.severity === 'error').flatMap((f) => f.rules.map((r) => ({ decision: f.decision, rule: r }))));
      editor.mark({ fired: lastFired, problems: lastProblems });
      renderPanel(panel, analysis, { locate: (name) => name && editor.openDecision(name) });
      panel.dataset.revision = String(Number(panel.dataset.revision || 0) + 1);
      if (!tryOut.firstChild && analysis.input_schema) renderTry(analysis.input_schema);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) clear(panel, h('p', { class: 'error' }, `Analysis failed: ${err.message}`));
    }
  };
  const renderTry = (schema) => {
    const answer = h('div', { class: 'answer', 'aria-live': 'polite' });
    clear(tryOut, inputForm(schema, async (inputs) => {
      const result = await analyse({ inputs });
      const ev = result.evaluation || {};
      if (ev.errors) return clear(answer, h('ul', { class: 'error' }, ev.errors.map((e) => h('li', {}, `${e.input}: ${e.message}`))));
      lastFired = ev.fired || {};
      editor.mark({ fired: lastFired, problems: lastProblems });
      const whyNot = (decision) => (editor.table(decision)?.rules || []).map((_, i) => i + 1)
        .filter((n) => !(lastFired[decision] || []).includes(n))
        .map((n) => h('button', { class: 'small why-not', 'data-decision': decision, 'data-rule': n, onclick: async () => {
          const r = await analyse({ inputs, decision, rule: n });
          const ex = (r.explanation || [])[0];
          const why = ex ? ex.failed.map((c) => `${c.column} is ${text(c.value)}, which does not satisfy '${c.cell}'`).join('; ') || (ex.matched ? 'it matched; the hit policy kept another rule' : '')
            : r.evaluation?.explain_error;
          answer.querySelector('.why')?.remove();
          answer.append(h('p', { class: 'why', role: 'status' }, `Why not ${decision} rule ${n}: ${why}`));
        } }, `Why not ${n}?`));
      clear(answer, h('table', { class: 'grid outputs', 'aria-label': 'Outputs' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Decision'), h('th', {}, 'Output'), h('th', {}, 'Fired'))),
        h('tbody', {}, Object.entries(ev.outputs || {}).flatMap(([name, value]) => [h('tr', {},
          h('th', {}, name), h('td', { 'data-output': name }, text(value)),
          h('td', {}, (ev.fired?.[name] || []).join(', ') || (editor.table(name) ? 'none' : ''))),
        editor.table(name) ? h('tr', { class: 'why-row' }, h('td', { colspan: 3 }, h('div', { class: 'why-nots' }, whyNot(name)))) : null]))));
    }), answer);
  };

  editor = new Editor(editorHost, { onChange: debounce(refresh, 400) });
  try {
    await editor.open(await drawable(content, version.format));
  } catch (err) {
    clear(editorHost, h('div', { class: 'error unreadable', role: 'alert' }, h('h3', {}, 'This model cannot be opened in the editor'),
      h('p', {}, err.message), h('p', {}, `Version ${number} of ${key} is stored as uploaded; its problems as the service reads them are listed beside.`)));
    const analysis = await api('/v1/workbench/analyse', { method: 'POST', json: { content, format: version.format === 'yaml' ? 'yaml' : 'dmn' } }).catch(() => null);
    if (analysis) renderPanel(panel, analysis, { locate: () => {} });
    return () => {};
  }
  await refresh();

  saveButton.addEventListener('click', async () => {
    status.className = 'status';
    try {
      const saved = await api(`/v1/workbench/${q(key)}/drafts`, { method: 'POST', json: {
        content: await editor.xml(), based_on: current.number, comment: comment.value || null } });
      current = { number: saved.number, state: saved.state };
      status.textContent = `Saved as draft version ${saved.number}.`;
      submitButton.disabled = false;
      submitButton.removeAttribute('title');
    } catch (err) {
      status.className = 'status error';
      if (err.status === 409 && err.problem.diff) {
        const other = err.problem.conflicting_version;
        status.replaceChildren(err.message, ' ', h('a', { href: `#/models/${q(key)}/versions/${other}` }, `Open version ${other}`),
          renderDiff(err.problem.diff));
      } else status.textContent = `Not saved: ${err.message}`;
    }
  });
  submitButton.addEventListener('click', async () => {
    status.className = 'status';
    try {
      const v = await api(`/v1/models/${q(key)}/versions/${current.number}/submit`, { method: 'POST', json: { comment: comment.value || null } });
      status.textContent = `Version ${v.number} submitted for approval.`;
      submitButton.disabled = true;
    } catch (err) {
      status.className = 'status error';
      status.textContent = `Not submitted: ${err.message}`;
    }
  });
  return () => editor.destroy();
}

// dmn-js draws only the DRG elements that have a shape: a DMN file without a drawing gets one
// laid out by the service (its ids, version and extensions kept) before it is opened.
async function drawable(content, format) {
  if (format !== 'dmn' || /DMNShape|biodi:bounds/.test(content)) return content;
  try {
    return (await api('/v1/workbench/layout', { method: 'POST', json: { content } })).content;
  } catch {
    return content; // the editor says what it cannot read
  }
}
