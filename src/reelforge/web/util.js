// Shared state, DOM and formatting helpers, the links of the Video object.

export const $ = (id) => document.getElementById(id);
export const KEY_STORE = 'reelforge.apiKey';
export const PREFS_STORE = 'reelforge.prefs';
export const BASE = new URL('.', location.href); // API paths resolve against the page's folder
export const TERMINAL = new Set(['completed', 'failed', 'canceled', 'expired']);
export const ROLES = [['reference', 'Reference'], ['first_frame', 'First frame'], ['last_frame', 'Last frame']];
export const MIB = 1024 * 1024;
// The server's mention syntax (planning/mentions.py): @Image1, @image 1, [Image 1].
export const MENTION_RE = /@(image|video|audio)\s?(\d+)(?!\d)|\[\s*(image|video|audio)\s*(\d+)\s*\]/gi;
export const FIELD_OF_PARAM = {
  prompt: 'prompt', model: 'model', resolution: 'resolution', size: 'resolution',
  aspect_ratio: 'aspect_ratio', seconds: 'seconds', seed: 'seed', codec: 'codec',
  generate_audio: 'generate_audio', references: 'references', input_reference: 'references',
  file: 'references', kind: 'references',
};

export const state = {
  key: readStore(KEY_STORE) || '',
  me: null,
  models: [],
  limits: null,
  refs: [],
  nextUid: 1,
  quoteTimer: 0,
  quoteSeq: 0,
  quoteAbort: null,
  spans: [],
  current: null, // id of the job shown in the Render panel
  follow: null, // AbortController of its event stream
  cards: new Map(), // id -> {video, el, parts}
  cursor: null,
  hasMore: true,
  loadingPage: false,
  booted: false,
  suggest: {open: false, items: [], active: 0, query: null},
  player: null, // the video shown in the player
};

export function readStore(name) {
  try { return localStorage.getItem(name); } catch { return null; }
}

export function writeStore(name, value) {
  try {
    if (value === null) localStorage.removeItem(name); else localStorage.setItem(name, value);
  } catch { /* private mode: the key lasts as long as the page */ }
}

export function prefs() {
  try { return JSON.parse(readStore(PREFS_STORE) || '{}') || {}; } catch { return {}; }
}

export function savePrefs() {
  writeStore(PREFS_STORE, JSON.stringify({
    model: $('model').value, resolution: $('resolution').value,
    aspect_ratio: $('aspect_ratio').value, seconds: $('seconds').value,
    generate_audio: $('generate_audio').checked, codec: $('codec').value,
  }));
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // works on plain http too
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fmtBytes(n) {
  if (n >= MIB) return `${+(n / MIB).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtMoney(amount, currency) {
  try {
    return new Intl.NumberFormat('en', {
      style: 'currency', currency: currency || 'USD',
      minimumFractionDigits: 2, maximumFractionDigits: 4,
    }).format(amount);
  } catch {
    return `${amount} ${currency || ''}`.trim();
  }
}

export function fmtSeconds(s) {
  return `${+Number(s).toFixed(2)} s`;
}

export function fmtTime(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : '';
}

export function capital(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function announce(text) {
  const node = $('announce');
  node.textContent = '';
  window.setTimeout(() => { node.textContent = text; }, 30);
}

export function banner(text) {
  const node = $('banner');
  node.textContent = text || '';
  node.hidden = !text;
}

// A signed content link of the Video object, made to point at this page's server: the
// server may call itself by another name (its PUBLIC_URL) than the one in the address bar.
export function contentUrl(url) {
  if (!url) return '';
  try {
    const u = new URL(url, BASE);
    if (u.origin === location.origin) return u.href;
    const at = u.pathname.indexOf('/v1/videos/');
    return at >= 0 ? new URL(`.${u.pathname.slice(at)}${u.search}`, BASE).href : '';
  } catch {
    return '';
  }
}
