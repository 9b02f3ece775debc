// The studio's shell: sign in with an API key, a navigation by what the key's role may do, and
// a hash router (#/models, #/approve, #/reviews, ...) over the screens.
import { api, session, whenSignedOut } from './api.js';
import { h, clear } from './dom.js';
import { Editor } from './editor.js';
import { modelsScreen, modelScreen, versionScreen } from './analyst.js';
import { queueScreen, approvalScreen } from './approver.js';
import { reviewsScreen, taskScreen, logScreen } from './reviewer.js';

const app = document.getElementById('app');
const ROLE_CAN = {
  viewer: ['read models, versions, aliases and diffs'],
  author: ['read models', 'edit and save drafts', 'submit drafts for approval'],
  approver: ['read models', 'approve, reject and publish versions (not your own)', 'move aliases'],
  reviewer: ['read models', 'work the review queue', 'read the decision log'],
  caller: ['evaluate published decisions (no studio screens)'],
  admin: ['everything'],
};
let who = null;
let cleanup = () => {};

function signIn(message) {
  who = null;
  cleanup();
  cleanup = () => {};
  const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true, 'aria-label': 'API key' });
  const form = h('form', { class: 'sign-in', 'aria-label': 'Sign in' },
    h('h1', {}, 'Decisionary Studio'), message ? h('p', { class: 'error', role: 'alert' }, message) : null,
    h('label', { for: 'api-key' }, 'API key'), key, h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      who = await api('/v1/whoami', { key: key.value.trim() });
      session.key = key.value.trim();
      if (!location.hash || location.hash === '#/') location.hash = home();
      route();
    } catch (err) {
      signIn(err.status === 401 ? 'This API key is unknown, expired or revoked.' : `Cannot sign in: ${err.message}`);
    }
  });
  clear(app, form);
  key.focus();
}
whenSignedOut(signIn);

function home() {
  return who.role === 'approver' ? '#/approve' : who.role === 'reviewer' ? '#/reviews' : '#/models';
}

function shell() {
  const may = (...roles) => roles.includes(who.role) || who.role === 'admin';
  const nav = h('nav', { 'aria-label': 'Studio' },
    may('viewer', 'author', 'approver', 'reviewer') ? h('a', { href: '#/models' }, 'Models') : null,
    may('approver', 'viewer', 'author', 'reviewer') ? h('a', { href: '#/approve' }, 'Approvals') : null,
    may('reviewer') ? h('a', { href: '#/reviews' }, 'Reviews') : null,
    h('a', { href: '/docs' }, 'API docs'));
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app, h('header', {}, h('strong', {}, 'Decisionary Studio'), nav,
    h('span', { class: 'who', id: 'who' }, `${who.name} (${who.role}): may ${ROLE_CAN[who.role].join('; ')}`),
    h('button', { id: 'sign-out', onclick: () => { session.key = null; signIn('Signed out.'); } }, 'Sign out')), main);
  return main;
}

async function route() {
  if (!session.key) return signIn();
  if (!who) {
    try {
      who = await api('/v1/whoami');
    } catch (err) {
      if (err.status !== 401) signIn(`Cannot reach the service: ${err.message}`);
      return;
    }
  }
  cleanup();
  cleanup = () => {};
  const main = shell();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 'models' && parts[2] === 'versions') cleanup = await versionScreen(main, parts[1], Number(parts[3]), who, { Editor }) || (() => {});
    else if (parts[0] === 'models' && parts[1]) await modelScreen(main, parts[1], who);
    else if (parts[0] === 'approve' && parts[1]) await approvalScreen(main, parts[1], Number(parts[2]), who);
    else if (parts[0] === 'approve') await queueScreen(main);
    else if (parts[0] === 'reviews' && parts[1]) await taskScreen(main, parts[1]);
    else if (parts[0] === 'reviews') await reviewsScreen(main);
    else if (parts[0] === 'log') await logScreen(main, parts[1]);
    else await modelsScreen(main);
    main.dataset.ready = 'true';
  } catch (err) {
    if (err.status === 401) return;
    clear(main, h('div', { class: 'error', role: 'alert' }, h('h2', {}, 'This screen cannot be shown'), h('p', {}, err.message)));
    main.dataset.ready = 'true';
  }
}

window.addEventListener('hashchange', route);
route();
