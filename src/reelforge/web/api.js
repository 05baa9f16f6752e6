// The native API: fetch with the key in the Authorization header, errors as ApiError.
import {unauthorized} from './key.js';
import {BASE, state} from './util.js';

export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || (status ? `the server answered ${status}` : 'the server cannot be reached'));
    this.status = status;
    this.code = e.code || null;
    this.param = e.param || null;
    this.referenceIndex = Number.isInteger(e.reference_index) ? e.reference_index : null;
    this.retryAfter = headers ? headers.get('retry-after') : null;
  }
}

export async function api(path, {method = 'GET', json, body, signal, headers = {}, key} = {}) {
  const h = new Headers(headers);
  const useKey = key === undefined ? state.key : key;
  if (useKey) h.set('Authorization', `Bearer ${useKey}`);
  if (json !== undefined) {
    h.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(new URL(path, BASE), {method, headers: h, body, signal, cache: 'no-store'});
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, null, null);
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    const err = new ApiError(res.status, data, res.headers);
    if (res.status === 401 && key === undefined) unauthorized();
    throw err;
  }
  return res;
}

export async function apiJson(path, options) {
  return (await api(path, options)).json();
}

export function errorText(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  let text = err.message;
  if (err.status === 429 && err.retryAfter) text += ` (try again in ${err.retryAfter} s)`;
  return text;
}
