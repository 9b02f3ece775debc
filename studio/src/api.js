// Calls to the service with the signed-in API key (kept in sessionStorage, never localStorage).
// A 401 (expired, revoked or unknown key) signs out and says why.
const KEY = 'decisionary.apiKey';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) { onSignedOut = fn; }

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

export async function api(path, { method = 'GET', json, form, raw = false, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? session.key ?? ''}` };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body });
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    const error = new ApiError(response.status, problem);
    if (response.status === 401 && key === undefined) {
      session.key = null;
      onSignedOut(`Your API key no longer works (${error.message}). It may have expired or been revoked: sign in again.`);
    }
    throw error;
  }
  if (raw) return response.text();
  return response.status === 204 ? null : response.json();
}

export const q = encodeURIComponent;
