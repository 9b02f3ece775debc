// Reviewers: the review-task queue (claim, see, decide), what happened next in the run, and a
// model's decision log, searchable.
import { api, q } from './api.js';
import { h, clear, text } from './dom.js';
import { pagedTable } from './paging.js';

export async function reviewsScreen(main) {
  const tasks = await pagedTable({ path: '/v1/reviews?state=open', items: 'tasks', label: 'Review tasks', empty: 'No open review tasks.',
    head: ['Model', 'Queue', 'Reason', 'State', 'Claimed by', 'Opened', ''],
    row: (t) => h('tr', {}, h('td', {}, `${t.model_key} v${t.version}`), h('td', {}, t.queue), h('td', {}, t.reason || ''),
      h('td', {}, t.state), h('td', {}, t.claimed_by || ''), h('td', {}, t.created_at),
      h('td', {}, h('a', { href: `#/reviews/${q(t.id)}`, 'aria-label': `Open task ${t.id}` }, 'Open'))) });
  clear(main, h('h2', {}, 'Review tasks'), tasks);
}

export async function taskScreen(main, id) {
  let task = await api(`/v1/reviews/${q(id)}`);
  const status = h('p', { class: 'status', role: 'status' });
  const reason = h('input', { id: 'review-reason', type: 'text', 'aria-label': 'Reason', placeholder: 'Reason (required)' });
  const override = h('textarea', { id: 'override-outputs', 'aria-label': 'Override outputs (JSON)', rows: 3 }, JSON.stringify(task.outputs || {}, null, 1));
  const body = h('div');
  const run = h('div', { class: 'run' });
  const decide = (outcome) => async () => {
    try {
      const json = { outcome, reason: reason.value };
      if (outcome === 'override') json.outputs = JSON.parse(override.value);
      task = await api(`/v1/reviews/${q(id)}/decide`, { method: 'POST', json });
      status.className = 'status';
      status.textContent = `Decided: ${task.outcome}.`;
      render();
      showRun();
    } catch (err) {
      status.className = 'status error';
      status.textContent = `Not decided: ${err.message}`;
    }
  };
  const showRun = async () => {
    try {
      const r = await api(`/v1/execution/runs/${q(task.run_id)}`);
      clear(run, h('h3', {}, `The run: ${r.state}`), runSummary(r),
        h('details', {}, h('summary', {}, 'The full run record'), h('pre', { class: 'run-json' }, JSON.stringify(r, null, 1))));
    } catch (err) {
      clear(run, h('p', {}, `The run cannot be shown: ${err.message}`));
    }
  };
  const render = () => {
    const open = task.state === 'open' || task.state === 'claimed';
    clear(body, h('h2', {}, `Review task on ${task.model_key} v${task.version} (${task.state})`),
      h('p', {}, `Queue ${task.queue}; reason: ${task.reason || ''}; decision ${task.decision_id}`),
      h('table', { class: 'grid', 'aria-label': 'Task' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Inputs'), h('td', {}, h('pre', {}, JSON.stringify(task.inputs, null, 1)))),
        h('tr', {}, h('th', {}, 'Outputs'), h('td', {}, h('pre', { id: 'task-outputs' }, JSON.stringify(task.outputs, null, 1)))),
        h('tr', {}, h('th', {}, 'Fired rules'), h('td', {}, Object.entries(task.fired || {}).map(([d, r]) => `${d}: ${text(r)}`).join('; '))))),
      open ? h('div', { class: 'actions' },
        h('button', { id: 'claim', disabled: task.state === 'claimed', title: task.state === 'claimed' ? `claimed by ${task.claimed_by}` : null,
          onclick: async () => { task = await api(`/v1/reviews/${q(id)}/claim`, { method: 'POST' }); render(); } }, 'Claim'),
        reason, h('button', { id: 'approve-task', onclick: decide('approve') }, 'Approve'),
        h('button', { id: 'reject-task', onclick: decide('reject') }, 'Reject'),
        h('label', { for: 'override-outputs' }, 'Override outputs'), override,
        h('button', { id: 'override-task', onclick: decide('override') }, 'Override'))
        : h('p', {}, `Decided ${task.outcome} by ${task.decided_by}: ${task.answer_reason || ''}`),
      status);
  };
  render();
  clear(main, body, run);
  if (task.state === 'decided') showRun();
}

export async function logScreen(main, key) {
  const output = h('input', { id: 'log-output', type: 'search', placeholder: 'Decision:Approve', 'aria-label': 'Output equals (Decision:value)' });
  const fired = h('input', { id: 'log-fired', type: 'search', placeholder: 'Risk Category:3', 'aria-label': 'Rule fired (Decision:rule)' });
  const list = h('div');
  const charts = h('div', { class: 'charts' });
  const search = async () => {
    const params = new URLSearchParams({ key });
    if (output.value) params.set('output', output.value);
    if (fired.value) params.set('fired', fired.value);
    try {
      clear(list, await pagedTable({ path: `/v1/records?${params}`, items: 'records', label: 'Decision records',
        empty: 'No decision matches.', head: ['When', 'Version', 'Outputs', 'Fired'],
        row: (r) => h('tr', {}, h('td', {}, r.created_at || r.at || ''), h('td', {}, r.version),
          h('td', {}, text(r.outputs)), h('td', {}, text(r.fired))) }));
    } catch (err) {
      clear(list, h('p', { class: 'error' }, err.message));
    }
  };
  const form = h('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); search(); } }, output, fired, h('button', { type: 'submit' }, 'Search'));
  clear(main, h('h2', {}, `Decision log: ${key}`), form, list, h('h2', {}, 'Audit'), charts);
  search();
  try {
    // The audit report is self-contained HTML (inline SVG charts, no scripts): shown in a
    // sandboxed frame, as the HTML report renders them.
    const report = await api(`/v1/audit/${q(key)}/report`, { raw: true });
    clear(charts, h('iframe', { class: 'report', title: `Audit report of ${key}: outcome mix, rule hits and drift`, sandbox: '', srcdoc: report }));
  } catch (err) {
    clear(charts, h('p', {}, `No audit report: ${err.message}`));
  }
}

// What a reviewer asks of a run at a glance: where it is, how delivery went, what the review
// changed. The full record stays one click away.
function runSummary(r) {
  const review = (r.context && r.context.review) || null;
  const rows = [
    ['Workflow', `${r.workflow} (step ${r.step_index + 1})`],
    ['State', r.finished_at ? `${r.state}, finished ${r.finished_at}` : `${r.state}, due ${r.due_at || '-'}`],
    ['Attempts', `${r.attempt}${r.crashes ? `; ${r.crashes} worker crash(es)` : ''}`],
    ['Last answer', r.last_error ? `${r.last_status ?? ''} ${r.last_error}`.trim() : (r.last_status ?? '-')],
  ];
  if (review) {
    rows.push(['Review', `${review.outcome} by ${review.by}${review.reason ? `: ${review.reason}` : ''}`]);
    rows.push(['Outputs after review', JSON.stringify(review.outputs || {})]);
  }
  return h('table', { class: 'grid', 'aria-label': 'Run' },
    h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v))))));
}
