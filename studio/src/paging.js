// Every list the service answers comes a page at a time (`{<items>: [...], next_cursor}`).
// pagedTable shows the first page and a "Load more" button (a real <button>, so Tab reaches it
// and Enter or Space presses it) that appends the next page, until no cursor is left.
import { api } from './api.js';
import { h } from './dom.js';

export const PAGE_SIZE = 50;

// path: the list route with its filters; items: the answer's list field (models, versions, ...);
// row: one item -> <tr>. Resolves once the first page is in, with the table (or `empty`).
export async function pagedTable({ path, items, label, head, row, empty = 'Nothing to list.' }) {
  const tbody = h('tbody');
  const table = h('table', { class: 'grid', 'aria-label': label, tabindex: '-1' },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))), tbody);
  const status = h('p', { class: 'status', role: 'status' });
  const more = h('button', { type: 'button', class: 'load-more' }, 'Load more');
  let cursor = null;
  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) params.set('cursor', cursor);
    const page = await api(`${path}${path.includes('?') ? '&' : '?'}${params}`);
    tbody.append(...page[items].map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    return page[items].length;
  };
  let loading = false; // a second press while a page is on its way asks for nothing
  more.addEventListener('click', async () => {
    if (loading) return;
    loading = true;
    more.setAttribute('aria-busy', 'true'); // not disabled: that would take the keyboard's focus away
    status.className = 'status';
    status.textContent = '';
    try {
      const added = await load();
      status.textContent = `${tbody.rows.length} shown (${added} more).`;
      // After the last page the button is gone: the keyboard goes to the list, not to the page's top.
      if (more.hidden) table.focus();
    } catch (err) {
      status.className = 'status error';
      status.textContent = `The next page could not be loaded: ${err.message}`;
    } finally {
      loading = false;
      more.removeAttribute('aria-busy');
    }
  });
  if (!(await load())) return h('p', {}, empty);
  return h('div', { class: 'paged' }, table, more, status);
}
