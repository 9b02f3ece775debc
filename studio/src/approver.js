// Approvers: the queue of submitted versions; per version the diff against the version it
// replaces (the published one, else the one before), the gates, approve/reject/publish.
import { api, q } from './api.js';
import { h, clear } from './dom.js';
import { pagedTable } from './paging.js';

export async function queueScreen(main) {
  const queue = (state, label, empty) => pagedTable({ path: `/v1/versions?state=${state}`, items: 'versions', label, empty,
    head: ['Model', 'Version', 'State', 'Author', 'Comment', ''],
    row: (v) => h('tr', {}, h('td', {}, v.key), h('td', {}, v.number), h('td', {}, v.state), h('td', {}, v.author),
      h('td', {}, v.comment || ''), h('td', {}, h('a', { href: `#/approve/${q(v.key)}/${v.number}`, 'aria-label': `Review ${v.key} version ${v.number}` }, 'Review'))) });
  const [submitted, approved] = await Promise.all([
    queue('submitted', 'Versions waiting for approval', 'Nothing is waiting for approval.'),
    queue('approved', 'Approved versions waiting to be published', 'No approved version is waiting to be published.')]);
  clear(main, h('h2', {}, 'Approval queue'), submitted, h('h3', {}, 'Approved, to publish'), approved);
}

export async function approvalScreen(main, key, number, who) {
  const model = await api(`/v1/models/${q(key)}`);
  const version = model.versions.find((v) => v.number === number);
  const replaced = model.aliases.find((a) => a.alias === 'production')?.number
    ?? [...model.versions].reverse().find((v) => v.state === 'published' && v.number !== number)?.number
    ?? (number > 1 ? number - 1 : null);
  const diff = replaced ? await api(`/v1/models/${q(key)}/diff?from=${replaced}&to=${number}`) : null;
  const gates = await api(`/v1/models/${q(key)}/versions/${number}/gates`);
  const replays = await api(`/v1/models/${q(key)}/versions/${number}/replays`).catch(() => []);
  const comment = h('input', { id: 'approval-comment', type: 'text', 'aria-label': 'Comment', placeholder: 'Comment' });
  const status = h('p', { class: 'status', role: 'status' });
  const own = version.author.toLowerCase() === who.name.toLowerCase();
  const canApprove = ['approver', 'admin'].includes(who.role);
  const why = (action, state) => (!canApprove ? `your role (${who.role}) may not ${action}`
    : own && action === 'approve' ? `you wrote version ${number}: someone else must approve it (maker-checker)`
      : version.state !== state ? `version ${number} is ${version.state}, not ${state}` : null);
  const button = (label, action, state, path) => {
    const reason = why(action, state);
    const b = h('button', { id: action, disabled: Boolean(reason), title: reason, 'aria-describedby': reason ? `${action}-why` : null }, label);
    b.addEventListener('click', async () => {
      try {
        const v = await api(`/v1/models/${q(key)}/versions/${number}/${path}`, { method: 'POST', json: { comment: comment.value || null } });
        status.className = 'status';
        status.textContent = `Version ${number} is now ${v.state}.`;
        version.state = v.state;
        refreshButtons();
      } catch (err) {
        status.className = 'status error';
        status.textContent = `${label} failed: ${err.message}`;
      }
    });
    return [b, reason ? h('span', { id: `${action}-why`, class: 'why-disabled' }, reason) : null];
  };
  const actions = h('div', { class: 'actions' });
  const refreshButtons = () => clear(actions, comment, button('Approve', 'approve', 'submitted', 'approve'),
    button('Reject', 'reject', version.state === 'approved' ? 'approved' : 'submitted', 'reject'),
    button('Publish', 'publish', 'approved', 'publish'), aliasButton());
  const aliasButton = () => {
    const reason = !canApprove ? `your role (${who.role}) may not move aliases`
      : version.state !== 'published' ? `version ${number} is ${version.state}: publish it first` : null;
    return h('button', { id: 'to-production', disabled: Boolean(reason), title: reason, onclick: async () => {
      try {
        await api(`/v1/models/${q(key)}/aliases/production`, { method: 'PUT', json: { version: number, why: comment.value || 'approved in the studio' } });
        status.className = 'status';
        status.textContent = `production now answers with version ${number}.`;
      } catch (err) {
        status.className = 'status error';
        status.textContent = `production not moved: ${err.message}`;
      }
    } }, 'Point production here');
  };
  refreshButtons();
  clear(main, h('h2', {}, `${key} version ${number} (${version.state}) by ${version.author}`),
    version.comment ? h('p', {}, `Comment: ${version.comment}`) : null, actions, status,
    h('section', { 'aria-labelledby': 'h-gates' }, h('h3', { id: 'h-gates' }, `Gates: ${gates.ok ? 'all pass' : 'failing'}`),
      h('ul', { class: 'gates' }, gates.passed.map((g) => h('li', { class: 'pass' }, `${g}: pass`)),
        gates.skipped.map((g) => h('li', {}, `skipped: ${g}`)),
        gates.failures.map((f) => h('li', { class: 'fail' }, `${f.gate}: ${f.reasons.join('; ')}`)))),
    replays.length ? h('section', { 'aria-labelledby': 'h-replay' }, h('h3', { id: 'h-replay' }, `Replay on logged decisions (${replays[0].source})`),
      h('table', { class: 'grid', 'aria-label': 'Replay summary' }, h('tbody', {}, Object.entries(replays[0].summary)
        .filter(([, v]) => v === null || typeof v !== 'object').map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v))))))) : null,
    h('section', { 'aria-labelledby': 'h-diff' }, h('h3', { id: 'h-diff' }, replaced ? `Changes from version ${replaced}` : 'First version: nothing to compare'),
      diff ? renderDiff(diff) : null));
}

export function renderDiff(diff) {
  if (diff.identical) return h('p', {}, 'No change to the model.');
  const blocks = [h('ul', { class: 'summary' }, diff.summary.map((s) => h('li', {}, s)))];
  for (const change of diff.changed) {
    const t = change.table;
    if (!t) {
      if (change.old_text !== change.new_text) blocks.push(h('h4', {}, change.name), h('table', { class: 'grid diff' },
        h('tbody', {}, h('tr', { class: 'removed' }, h('th', {}, 'before'), h('td', {}, change.old_text ?? '')),
          h('tr', { class: 'added' }, h('th', {}, 'after'), h('td', {}, change.new_text ?? '')))));
      continue;
    }
    const rows = [];
    for (const r of t.rules_changed) {
      for (const c of r.cells) rows.push(h('tr', { class: 'changed' }, h('td', {}, `rule ${r.old_number} → ${r.new_number}`), h('td', {}, c.column),
        h('td', { class: 'old' }, c.old ?? ''), h('td', { class: 'new' }, c.new ?? '')));
    }
    for (const r of t.rules_added) rows.push(h('tr', { class: 'added' }, h('td', {}, `rule ${r.number} added`), h('td', { colspan: 3 }, Object.entries(r.cells).map(([k, v]) => `${k}: ${v}`).join(' | '))));
    for (const r of t.rules_removed) rows.push(h('tr', { class: 'removed' }, h('td', {}, `rule ${r.number} removed`), h('td', { colspan: 3 }, Object.entries(r.cells).map(([k, v]) => `${k}: ${v}`).join(' | '))));
    blocks.push(h('h4', {}, change.name), h('table', { class: 'grid diff', 'aria-label': `Changes to ${change.name}` },
      h('thead', {}, h('tr', {}, ['Rule', 'Column', 'Before', 'After'].map((x) => h('th', {}, x)))), h('tbody', {}, rows)));
  }
  return h('div', {}, blocks);
}
