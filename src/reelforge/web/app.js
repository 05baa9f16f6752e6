// reelforge playground and gallery: plain JavaScript against the native API (/v1), nothing
// built, nothing loaded from anywhere but this server. The API key lives in localStorage and
// is sent in the Authorization header only; videos and posters load from the signed links of
// the Video object (`urls`), which need no header.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = 'reelforge.apiKey';
  const PREFS_STORE = 'reelforge.prefs';
  const BASE = new URL('.', location.href); // API paths resolve against the page's folder
  const TERMINAL = new Set(['completed', 'failed', 'canceled', 'expired']);
  const KINDS = ['image', 'video', 'audio'];
  const ROLES = [['reference', 'Reference'], ['first_frame', 'First frame'], ['last_frame', 'Last frame']];
  const MIB = 1024 * 1024;
  // The server's mention syntax (planning/mentions.py): @Image1, @image 1, [Image 1].
  const MENTION_RE = /@(image|video|audio)\s?(\d+)(?!\d)|\[\s*(image|video|audio)\s*(\d+)\s*\]/gi;
  const FIELD_OF_PARAM = {
    prompt: 'prompt', model: 'model', resolution: 'resolution', size: 'resolution',
    aspect_ratio: 'aspect_ratio', seconds: 'seconds', seed: 'seed', codec: 'codec',
    generate_audio: 'generate_audio', references: 'references', input_reference: 'references',
    file: 'references', kind: 'references',
  };

  const state = {
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

  // ---------------------------------------------------------------- small helpers

  function readStore(name) {
    try { return localStorage.getItem(name); } catch { return null; }
  }
  function writeStore(name, value) {
    try {
      if (value === null) localStorage.removeItem(name); else localStorage.setItem(name, value);
    } catch { /* private mode: the key lasts as long as the page */ }
  }
  function prefs() {
    try { return JSON.parse(readStore(PREFS_STORE) || '{}') || {}; } catch { return {}; }
  }
  function savePrefs() {
    writeStore(PREFS_STORE, JSON.stringify({
      model: $('model').value, resolution: $('resolution').value,
      aspect_ratio: $('aspect_ratio').value, seconds: $('seconds').value,
      generate_audio: $('generate_audio').checked, codec: $('codec').value,
    }));
  }
  function el(tag, attrs = {}, ...children) {
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
  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // works on plain http too
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function fmtBytes(n) {
    if (n >= MIB) return `${+(n / MIB).toFixed(1)} MiB`;
    if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
    return `${n} B`;
  }
  function fmtMoney(amount, currency) {
    try {
      return new Intl.NumberFormat('en', {
        style: 'currency', currency: currency || 'USD',
        minimumFractionDigits: 2, maximumFractionDigits: 4,
      }).format(amount);
    } catch {
      return `${amount} ${currency || ''}`.trim();
    }
  }
  function fmtSeconds(s) {
    return `${+Number(s).toFixed(2)} s`;
  }
  function fmtTime(unix) {
    return unix ? new Date(unix * 1000).toLocaleString() : '';
  }
  function capital(word) {
    return word.charAt(0).toUpperCase() + word.slice(1);
  }
  function announce(text) {
    const node = $('announce');
    node.textContent = '';
    window.setTimeout(() => { node.textContent = text; }, 30);
  }
  function banner(text) {
    const node = $('banner');
    node.textContent = text || '';
    node.hidden = !text;
  }
  // A signed content link of the Video object, made to point at this page's server: the
  // server may call itself by another name (its PUBLIC_URL) than the one in the address bar.
  function contentUrl(url) {
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

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
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

  async function api(path, {method = 'GET', json, body, signal, headers = {}, key} = {}) {
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
  async function apiJson(path, options) {
    return (await api(path, options)).json();
  }
  function errorText(err) {
    if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
    let text = err.message;
    if (err.status === 429 && err.retryAfter) text += ` (try again in ${err.retryAfter} s)`;
    return text;
  }

  // ---------------------------------------------------------------- the key

  function unauthorized() {
    if (!$('key-dialog').open) openKeyDialog('The server refused the saved key: enter a valid one.');
  }
  function openKeyDialog(reason) {
    $('msg-key').textContent = reason || '';
    $('api-key').value = '';
    $('api-key').setAttribute('aria-invalid', reason ? 'true' : 'false');
    $('key-cancel').hidden = !state.key;
    if (!$('key-dialog').open) $('key-dialog').showModal();
    $('api-key').focus();
  }
  async function saveKey(event) {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) {
      $('msg-key').textContent = 'Enter the API key (it starts with rf_).';
      $('api-key').setAttribute('aria-invalid', 'true');
      $('api-key').focus();
      return;
    }
    $('key-save').disabled = true;
    try {
      await apiJson('v1/keys/me', {key});
    } catch (err) {
      $('msg-key').textContent = err.status === 401
        ? `This key was refused: ${err.message}` : errorText(err);
      $('api-key').setAttribute('aria-invalid', 'true');
      $('api-key').focus();
      return;
    } finally {
      $('key-save').disabled = false;
    }
    state.key = key;
    writeStore(KEY_STORE, key);
    $('key-dialog').close();
    announce('API key saved in this browser.');
    await boot();
    $('prompt').focus();
  }
  function forgetKey() {
    state.key = '';
    writeStore(KEY_STORE, null);
    state.me = null;
    $('key-label').textContent = 'No API key';
    $('key-forget').hidden = true;
    $('key-change').textContent = 'Set API key';
    announce('API key removed from this browser.');
    openKeyDialog();
  }
  function showKey() {
    const me = state.me;
    const tail = state.key.slice(-4);
    let text = `Key: ${me.name || me.id} (…${tail})`;
    if (me.balance !== null && me.balance !== undefined) text += ` · balance ${fmtMoney(me.balance)}`;
    $('key-label').textContent = text;
    $('key-forget').hidden = false;
    $('key-change').textContent = 'Change key';
    const canGenerate = (me.scopes || []).some((s) => s === 'generate' || s === 'admin');
    $('submit').disabled = !canGenerate;
    $('msg-form').textContent = canGenerate ? '' : 'This key may only read: it cannot create videos.';
  }

  // ---------------------------------------------------------------- models and limits

  function currentModel() {
    return state.models.find((m) => m.id === $('model').value) || null;
  }
  function fillSelect(select, options, wanted) {
    const keep = wanted !== undefined ? wanted : select.value;
    select.replaceChildren(...options.map(([value, label]) => el('option', {value, text: label})));
    const values = options.map(([v]) => v);
    if (values.includes(String(keep))) select.value = String(keep);
    return select.value;
  }
  async function loadModels() {
    const list = await apiJson('v1/models');
    state.models = list.data || [];
    const select = $('model');
    const engines = state.models.filter((m) => m.kind === 'engine');
    const aliases = state.models.filter((m) => m.kind !== 'engine');
    const option = (m) => el('option', {
      value: m.id, disabled: !m.ready, title: m.ready ? m.summary : m.reason,
      text: m.ready ? m.id : `${m.id} (not ready)`,
    });
    select.replaceChildren(
      el('optgroup', {label: 'Engines'}, engines.map(option)),
      aliases.length ? el('optgroup', {label: 'Model names'}, aliases.map(option)) : null,
    );
    const ready = state.models.filter((m) => m.ready);
    const wanted = prefs().model;
    const pick = ready.find((m) => m.id === wanted) || ready.find((m) => m.id === 'preview')
      || ready.find((m) => m.kind === 'engine') || ready[0];
    if (pick) select.value = pick.id;
    applyModel(true);
  }
  function applyModel(first) {
    const m = currentModel();
    const p = first ? prefs() : {};
    const note = $('model-note');
    note.replaceChildren();
    if (!m) {
      note.textContent = state.models.length ? 'No model is ready on this server.' : '';
      return;
    }
    const acc = m.accepts;
    const res = fillSelect($('resolution'), acc.resolutions.map((r) => [r, r]),
      p.resolution || $('resolution').value || (acc.resolutions.includes('720p') ? '720p' : acc.resolutions[0]));
    if (!res) $('resolution').value = acc.resolutions[0];
    fillSelect($('aspect_ratio'), acc.aspect_ratios.map((a) => [a, a === 'auto' ? 'auto (from the first image or video)' : a]),
      p.aspect_ratio || $('aspect_ratio').value || '16:9');
    if (!$('aspect_ratio').value) $('aspect_ratio').value = acc.aspect_ratios.includes('16:9') ? '16:9' : acc.aspect_ratios[0];
    const secs = [];
    if (acc.seconds.auto) secs.push(['auto', 'auto (as the prompt needs)']);
    for (let s = acc.seconds.min; s <= acc.seconds.max; s += 1) secs.push([String(s), `${s} s`]);
    fillSelect($('seconds'), secs, p.seconds || $('seconds').value || '5');
    if (!$('seconds').value) $('seconds').value = secs.some(([v]) => v === '5') ? '5' : secs[0][0];
    fillSelect($('codec'), acc.codecs.map((c) => [c, c === 'h264' ? 'H.264' : c === 'h265' ? 'H.265' : c]),
      p.codec || $('codec').value || 'h264');
    const audio = $('generate_audio');
    audio.disabled = !acc.audio_out;
    if (!acc.audio_out) audio.checked = false;
    else if (first && typeof p.generate_audio === 'boolean') audio.checked = p.generate_audio;
    $('audio-note').textContent = acc.audio_out ? '' : `${m.id} makes no sound.`;

    const lines = [];
    lines.push(el('span', {}, m.kind === 'engine' ? m.summary || '' : `${m.summary || ''} (engine ${m.engine}${m.preset && m.preset !== 'default' ? `:${m.preset}` : ''})`));
    const price = Object.entries((m.pricing && m.pricing.per_second) || {})
      .map(([r, v]) => `${r} ${fmtMoney(v, m.pricing.currency)}/s`).join(' · ');
    if (price) lines.push(el('span', {class: 'price'}, ` Price: ${price}.`));
    note.append(...lines);
    const down = state.models.filter((x) => !x.ready && x.kind === 'engine');
    if (down.length) {
      note.append(el('details', {},
        el('summary', {text: `${down.length} engine${down.length > 1 ? 's' : ''} not ready`}),
        el('ul', {}, down.map((x) => el('li', {}, el('strong', {text: x.id}), `: ${x.reason || 'not ready'}`)))));
    }
    renderLimits();
  }
  async function loadLimits() {
    state.limits = await apiJson('web/limits');
  }
  function kindLimit(kind) {
    const l = state.limits && state.limits[kind];
    const m = currentModel();
    const engine = m ? m.accepts.references[kind] : null;
    return {count: l ? Math.min(l.count, engine ?? l.count) : engine ?? 0, bytes: l ? l.bytes : Infinity};
  }
  function renderLimits() {
    const box = $('ref-limits');
    const l = state.limits;
    if (!l) return;
    const m = currentModel();
    const n = (kind) => kindLimit(kind).count;
    const range = (a, b, unit) => `${+a}–${+b}${unit}`;
    const lines = [
      `Images: up to ${n('image')} · ${l.image.formats.join(', ')} · ${fmtBytes(l.image.bytes)} each · sides ${range(l.image.min_side, l.image.max_side, ' px')}, width/height ${range(l.image.min_aspect, l.image.max_aspect, '')}`,
      `Videos: up to ${n('video')} · ${l.video.formats.join(', ')} · ${fmtBytes(l.video.bytes_total)} together · ${range(l.video.min_seconds, l.video.max_seconds, ' s')} each, ${+l.video.max_seconds_total} s together · ${range(l.video.min_fps, l.video.max_fps, ' fps')}`,
      `Audio: up to ${n('audio')} · ${l.audio.formats.join(', ')} · ${fmtBytes(l.audio.bytes)} each · ${range(l.audio.min_seconds, l.audio.max_seconds, ' s')} each, ${+l.audio.max_seconds_total} s together${l.audio_requires_visual ? ' · needs an image or a video' : ''}`,
      `${l.max_references} files in all${m ? ` · counts for ${m.id}` : ''}. Roles: reference, first frame, last frame (images).`,
    ];
    box.replaceChildren(el('ul', {class: 'limits'}, lines.map((t) => el('li', {text: t}))));
  }

  // ---------------------------------------------------------------- references

  function kindOf(file) {
    const type = (file.type || '').toLowerCase();
    const name = file.name.toLowerCase();
    if (type.startsWith('image/')) return 'image';
    if (type.startsWith('video/')) return 'video';
    if (type.startsWith('audio/')) return 'audio';
    if (/\.(png|jpe?g|webp|bmp|tiff?|gif)$/.test(name)) return 'image';
    if (/\.(mp4|mov|m4v)$/.test(name)) return 'video';
    if (/\.(mp3|wav)$/.test(name)) return 'audio';
    return null;
  }
  function liveRefs() {
    return state.refs.filter((r) => r.status !== 'error');
  }
  function readyRefs() {
    return state.refs.filter((r) => r.status === 'ready');
  }
  function uploadsPending() {
    return state.refs.some((r) => r.status === 'uploading');
  }
  function relabel() {
    const counts = {image: 0, video: 0, audio: 0};
    for (const r of state.refs) {
      if (r.status === 'error') { r.label = null; continue; }
      counts[r.kind] += 1;
      r.label = `${capital(r.kind)}${counts[r.kind]}`;
    }
    for (const r of state.refs) renderRef(r);
  }
  function precheck(file, kind) {
    const l = state.limits;
    if (!kind) {
      return `${file.name}: not an image, video or audio file this server takes`
        + (l ? ` (${[...l.image.formats, ...l.video.formats, ...l.audio.formats].join(', ')})` : '');
    }
    if (!l) return null;
    const lim = kindLimit(kind);
    const live = liveRefs();
    const same = live.filter((r) => r.kind === kind);
    const word = kind === 'audio' ? 'audio clips' : `${kind}s`;
    if (live.length >= l.max_references) return `${file.name}: at most ${l.max_references} reference files in all`;
    if (same.length >= lim.count) return `${file.name}: at most ${lim.count} ${word} for this model`;
    if (file.size > lim.bytes) {
      return `${file.name} is ${fmtBytes(file.size)} (${file.size.toLocaleString('en')} bytes); ${word} may be at most ${fmtBytes(lim.bytes)} (${lim.bytes.toLocaleString('en')} bytes) each`;
    }
    if (kind === 'video') {
      const total = same.reduce((sum, r) => sum + r.file.size, 0) + file.size;
      if (total > l.video.bytes_total) {
        return `${file.name}: the videos add up to ${fmtBytes(total)}; at most ${fmtBytes(l.video.bytes_total)} together`;
      }
    }
    if (file.size === 0) return `${file.name} is empty`;
    return null;
  }
  function addFiles(files) {
    const added = [];
    for (const file of files) {
      const kind = kindOf(file);
      const ref = {
        uid: state.nextUid++, file, kind: kind || 'image', role: 'reference', status: 'uploading',
        fileId: null, info: null, error: '', serverMsg: null, progress: 0, label: null, el: null,
        url: null, xhr: null,
      };
      const problem = precheck(file, kind);
      if (problem) {
        ref.status = 'error';
        ref.error = problem;
      } else if (kind === 'image' || kind === 'video') {
        ref.url = URL.createObjectURL(file);
      }
      state.refs.push(ref);
      ref.el = buildRef(ref);
      $('ref-list').append(ref.el);
      added.push(ref);
      if (ref.status === 'uploading') upload(ref);
    }
    relabel();
    renderMirror();
    const good = added.filter((r) => r.status !== 'error').length;
    const bad = added.length - good;
    announce(`${good} reference${good === 1 ? '' : 's'} attached${bad ? `, ${bad} refused` : ''}.`);
    scheduleQuote();
  }
  function upload(ref) {
    const xhr = new XMLHttpRequest(); // XHR: fetch() reports no upload progress
    ref.xhr = xhr;
    xhr.open('POST', new URL('v1/files', BASE));
    xhr.setRequestHeader('Authorization', `Bearer ${state.key}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) { ref.progress = e.loaded / e.total; renderRef(ref); }
    };
    xhr.onload = () => {
      ref.xhr = null;
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response) {
        ref.status = 'ready';
        ref.fileId = xhr.response.id;
        ref.info = xhr.response;
      } else {
        const err = new ApiError(xhr.status, xhr.response, null);
        ref.status = 'error';
        ref.error = `${ref.file.name}: ${err.message}${err.code ? ` (${err.code})` : ''}`;
        if (xhr.status === 401) unauthorized();
      }
      relabel();
      renderMirror();
      if (ref.status === 'error') announce(ref.error);
      scheduleQuote();
    };
    xhr.onerror = () => {
      ref.xhr = null;
      ref.status = 'error';
      ref.error = `${ref.file.name}: the upload failed (the server cannot be reached)`;
      relabel();
      scheduleQuote();
    };
    const form = new FormData();
    form.append('file', ref.file, ref.file.name);
    form.append('kind', ref.kind);
    xhr.send(form);
  }
  function removeRef(ref) {
    if (ref.xhr) ref.xhr.abort();
    if (ref.url) URL.revokeObjectURL(ref.url);
    const at = state.refs.indexOf(ref);
    state.refs.splice(at, 1);
    ref.el.remove();
    relabel();
    renderMirror();
    scheduleQuote();
    announce(`${ref.file.name} removed.`);
    const next = state.refs[at] || state.refs[at - 1];
    (next ? next.el.querySelector('button.remove') : $('ref-input')).focus();
  }
  function buildRef(ref) {
    const id = `ref-${ref.uid}`;
    let thumb;
    if (ref.url && ref.kind === 'image') thumb = el('img', {class: 'thumb', src: ref.url, alt: ''});
    else if (ref.url && ref.kind === 'video') thumb = el('video', {class: 'thumb', src: ref.url, muted: true, preload: 'metadata', 'aria-hidden': 'true'});
    else thumb = el('div', {class: 'thumb', 'aria-hidden': 'true', text: ref.kind === 'audio' ? '♪' : '—'});
    const role = el('select', {id: `${id}-role`, class: 'role', 'aria-label': `Role of ${ref.file.name}`,
      onchange: (e) => { ref.role = e.target.value; scheduleQuote(); }},
    ROLES.map(([value, label]) => el('option', {value, text: label})));
    const node = el('li', {class: 'ref', id, 'data-uid': ref.uid},
      thumb,
      el('span', {class: 'name'}),
      el('span', {class: 'meta'}),
      el('progress', {max: '1', value: '0', 'aria-label': `Uploading ${ref.file.name}`}),
      el('div', {class: 'role-box'}, el('label', {for: `${id}-role`, text: 'Role'}), ' ', role),
      el('p', {class: 'error', id: `${id}-error`, role: 'alert'}),
      el('button', {type: 'button', class: 'remove', 'aria-label': `Remove ${ref.file.name}`,
        onclick: () => removeRef(ref)}, 'Remove'),
    );
    return node;
  }
  function renderRef(ref) {
    const node = ref.el;
    if (!node) return;
    node.classList.toggle('bad', ref.status === 'error' || !!ref.serverMsg);
    node.querySelector('.name').textContent = ref.label ? `@${ref.label}` : 'not attached';
    const bits = [ref.file.name];
    if (ref.info && ref.info.width) bits.push(`${ref.info.width}×${ref.info.height}`);
    if (ref.info && ref.info.seconds) bits.push(fmtSeconds(ref.info.seconds));
    bits.push(fmtBytes(ref.file.size));
    if (ref.status === 'uploading') bits.push('uploading…');
    node.querySelector('.meta').textContent = bits.join(' · ');
    const bar = node.querySelector('progress');
    bar.hidden = ref.status !== 'uploading';
    bar.value = ref.progress;
    const roleBox = node.querySelector('.role-box');
    roleBox.hidden = ref.kind !== 'image' || ref.status === 'error';
    node.querySelector('select.role').value = ref.role;
    const err = node.querySelector('.error');
    err.replaceChildren();
    if (ref.error) err.append(el('span', {class: 'line', text: ref.error}));
    if (ref.serverMsg) err.append(el('span', {class: `line${ref.serverMsg.warn ? ' warn' : ''}`, text: ref.serverMsg.text}));
    const select = node.querySelector('select.role');
    select.setAttribute('aria-invalid', ref.serverMsg && !ref.serverMsg.warn ? 'true' : 'false');
    select.setAttribute('aria-describedby', err.id);
  }

  // ---------------------------------------------------------------- the prompt: mentions

  function mentionable() {
    return liveRefs().filter((r) => r.label);
  }
  function mentionKey(kind, index) {
    return `${kind.toLowerCase()}${Number(index)}`;
  }
  // UTF-16 offsets of Python's code-point offsets (warning spans).
  function utf16Offset(text, codePoints) {
    let units = 0;
    let seen = 0;
    for (const ch of text) {
      if (seen >= codePoints) break;
      units += ch.length;
      seen += 1;
    }
    return units;
  }
  function renderMirror(caret) {
    const text = $('prompt').value;
    const known = new Set(mentionable().map((r) => r.label.toLowerCase()));
    const ranges = [];
    MENTION_RE.lastIndex = 0;
    for (let m = MENTION_RE.exec(text); m; m = MENTION_RE.exec(text)) {
      const kind = m[1] || m[3];
      const index = m[2] || m[4];
      const ok = known.has(mentionKey(kind, index));
      ranges.push({start: m.index, end: m.index + m[0].length, cls: ok ? 'ok' : 'bad',
        title: ok ? '' : `no ${kind.toLowerCase()} ${Number(index)} attached`});
    }
    for (const s of state.spans) {
      const start = utf16Offset(text, s[0]);
      const end = utf16Offset(text, s[1]);
      if (end > start && !ranges.some((r) => r.start < end && start < r.end)) {
        ranges.push({start, end, cls: 'span', title: ''});
      }
    }
    ranges.sort((a, b) => a.start - b.start);
    const frag = document.createDocumentFragment();
    let at = 0;
    const put = (upto) => {
      if (caret !== undefined && caret >= at && caret <= upto) {
        frag.append(text.slice(at, caret), el('span', {class: 'caret-marker'}));
        at = caret;
        caret = undefined;
      }
      frag.append(text.slice(at, upto));
      at = upto;
    };
    for (const r of ranges) {
      if (r.start < at) continue;
      put(r.start);
      frag.append(el('mark', {class: r.cls, title: r.title || null}, text.slice(r.start, r.end)));
      at = r.end;
    }
    put(text.length);
    frag.append(' '); // a trailing newline keeps its line
    const mirror = $('prompt-mirror');
    mirror.replaceChildren(frag);
    mirror.scrollTop = $('prompt').scrollTop;
    const bad = ranges.filter((r) => r.cls === 'bad').length;
    $('prompt').dataset.unknownMentions = String(bad);
  }
  function mentionQuery() {
    const box = $('prompt');
    const pos = box.selectionStart;
    if (pos !== box.selectionEnd) return null;
    const before = box.value.slice(0, pos);
    const m = /(^|[^\w@])@([A-Za-z]*\d*)$/.exec(before);
    if (!m) return null;
    return {start: pos - m[2].length - 1, end: pos, text: m[2]};
  }
  function updateSuggestions() {
    const query = mentionQuery();
    const s = state.suggest;
    const items = query
      ? mentionable().filter((r) => r.label.toLowerCase().startsWith(query.text.toLowerCase()))
      : [];
    if (!query || !items.length) { closeSuggestions(); return; }
    const same = s.open && s.items.length === items.length && s.items.every((r, i) => r === items[i]);
    s.items = items;
    s.query = query;
    if (!same) s.active = 0;
    s.open = true;
    const list = $('mention-list');
    list.replaceChildren(...items.map((r, i) => el('li', {
      id: `mention-opt-${i}`, role: 'option', 'aria-selected': i === s.active ? 'true' : 'false',
      onmousedown: (e) => { e.preventDefault(); acceptSuggestion(i); },
    },
    r.kind === 'image' && r.url ? el('img', {src: r.url, alt: ''}) : null,
    el('span', {text: `@${r.label}`}),
    el('span', {class: 'muted', text: r.file.name}))));
    list.hidden = false;
    const box = $('prompt');
    box.setAttribute('aria-expanded', 'true');
    box.setAttribute('aria-activedescendant', `mention-opt-${s.active}`);
    // Under the caret: the mirror lays the text out exactly as the textarea does.
    renderMirror(query.end);
    const marker = $('prompt-mirror').querySelector('.caret-marker');
    if (marker) {
      const lineHeight = parseFloat(getComputedStyle(box).lineHeight) || 22;
      const top = marker.offsetTop - box.scrollTop + lineHeight + 4;
      const wrap = box.parentElement.clientWidth;
      list.style.top = `${Math.min(top, box.clientHeight + 4)}px`;
      list.style.left = `${Math.max(0, Math.min(marker.offsetLeft, wrap - list.offsetWidth))}px`;
    }
  }
  function closeSuggestions() {
    const s = state.suggest;
    s.open = false;
    s.items = [];
    $('mention-list').hidden = true;
    $('prompt').setAttribute('aria-expanded', 'false');
    $('prompt').removeAttribute('aria-activedescendant');
  }
  function moveSuggestion(step) {
    const s = state.suggest;
    s.active = (s.active + step + s.items.length) % s.items.length;
    const options = $('mention-list').children;
    for (let i = 0; i < options.length; i += 1) options[i].setAttribute('aria-selected', i === s.active ? 'true' : 'false');
    $('prompt').setAttribute('aria-activedescendant', `mention-opt-${s.active}`);
  }
  function acceptSuggestion(i) {
    const s = state.suggest;
    const ref = s.items[i];
    const query = mentionQuery() || s.query;
    if (!ref || !query) return;
    const box = $('prompt');
    const after = box.value.slice(query.end);
    const insert = `@${ref.label}${after.startsWith(' ') ? '' : ' '}`;
    box.setRangeText(insert, query.start, query.end, 'end');
    if (after.startsWith(' ')) box.setSelectionRange(box.selectionStart + 1, box.selectionStart + 1);
    closeSuggestions();
    promptChanged();
    announce(`@${ref.label} inserted.`);
  }
  function promptKeydown(e) {
    const s = state.suggest;
    if (!s.open) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); moveSuggestion(1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); moveSuggestion(-1); }
    else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); acceptSuggestion(s.active); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeSuggestions(); }
  }
  function promptChanged() {
    state.spans = [];
    renderMirror();
    updateSuggestions();
    scheduleQuote();
  }

  // ---------------------------------------------------------------- messages next to fields

  function controlOf(field) {
    if (field === 'form') return null;
    if (field === 'references') return $('ref-input');
    return $(field);
  }
  function targetOf(param, referenceIndex) {
    const m = /^references\[(\d+)\]/.exec(param || '');
    if (m) return {field: 'references', ref: Number(m[1])};
    if (referenceIndex !== null && referenceIndex !== undefined && (param || '').startsWith('reference')) {
      return {field: 'references', ref: referenceIndex};
    }
    const root = (param || '').split(/[.[]/)[0];
    return {field: FIELD_OF_PARAM[root] || 'form', ref: null};
  }
  // Replace the server's verdict shown next to the fields: `errors` (ApiError) and `warnings`
  // ({code, message, param, span}) of a quote, a create or a video; `sent` the references of
  // that request, in its order.
  function showMessages(errors, warnings, sent) {
    for (const node of document.querySelectorAll('#compose-form .field-msg[data-field]')) node.replaceChildren();
    for (const node of document.querySelectorAll('#compose-form [aria-invalid="true"]')) node.setAttribute('aria-invalid', 'false');
    for (const r of state.refs) r.serverMsg = null;
    const put = (param, refIndex, text, warn) => {
      const t = targetOf(param, refIndex);
      if (t.ref !== null && sent && sent[t.ref] && state.refs.includes(sent[t.ref])) {
        sent[t.ref].serverMsg = {text, warn};
        renderRef(sent[t.ref]);
        return;
      }
      const box = $(`msg-${t.field}`) || $('msg-form');
      box.append(el('span', {class: `line${warn ? ' warn' : ''}`, text}), ' ');
      if (!warn) {
        const control = controlOf(t.field);
        if (control) control.setAttribute('aria-invalid', 'true');
      }
    };
    for (const err of errors) {
      put(err.param, err.referenceIndex, `${errorText(err)}${err.code ? ` (${err.code})` : ''}`, false);
    }
    for (const w of warnings || []) put(w.param, null, `Warning: ${w.message} (${w.code})`, true);
    state.spans = (warnings || []).filter((w) => Array.isArray(w.span)).map((w) => w.span);
    for (const r of state.refs) renderRef(r);
    renderMirror();
  }

  // ---------------------------------------------------------------- quote

  function buildRequest() {
    const sent = readyRefs();
    const req = {
      prompt: $('prompt').value,
      model: $('model').value,
      resolution: $('resolution').value,
      aspect_ratio: $('aspect_ratio').value,
      seconds: $('seconds').value === 'auto' ? 'auto' : Number($('seconds').value),
      generate_audio: $('generate_audio').checked,
      codec: $('codec').value,
    };
    const seed = $('seed').value.trim();
    if (seed !== '') req.seed = Number(seed);
    if (sent.length) req.references = sent.map((r) => ({type: r.kind, file_id: r.fileId, role: r.role}));
    return {req, sent};
  }
  function scheduleQuote() {
    window.clearTimeout(state.quoteTimer);
    $('quote').classList.add('stale');
    state.quoteTimer = window.setTimeout(runQuote, 300);
  }
  async function runQuote() {
    if (!state.booted) return;
    const out = $('quote');
    if (state.quoteAbort) state.quoteAbort.abort();
    const seq = ++state.quoteSeq;
    if (uploadsPending()) { out.textContent = 'Price: waiting for the uploads…'; return; }
    if (!$('prompt').value.trim()) {
      out.textContent = 'Write a prompt for a price.';
      out.classList.remove('stale');
      showMessages([], [], []);
      return;
    }
    const ctrl = new AbortController();
    state.quoteAbort = ctrl;
    const {req, sent} = buildRequest();
    try {
      const q = await apiJson('v1/videos/quote', {method: 'POST', json: req, signal: ctrl.signal});
      if (seq !== state.quoteSeq) return;
      const auto = q.seconds === 'auto' ? ' (length chosen from the prompt)' : '';
      out.textContent = `${fmtMoney(q.cost, q.currency)} · ${fmtSeconds(q.billed_seconds)} at ${q.size} · ${q.engine}${auto}`;
      out.dataset.cost = String(q.cost);
      out.dataset.size = q.size;
      showMessages([], q.warnings, sent);
    } catch (err) {
      if (err.name === 'AbortError' || seq !== state.quoteSeq) return;
      out.textContent = 'No price: see the problem below.';
      delete out.dataset.cost;
      showMessages([err], [], sent);
    } finally {
      if (seq === state.quoteSeq) out.classList.remove('stale');
    }
  }

  // ---------------------------------------------------------------- submit and follow

  async function submit(e) {
    e.preventDefault();
    const btn = $('submit');
    if (btn.disabled) return;
    if (!$('prompt').value.trim()) {
      showMessages([new ApiError(400, {error: {message: 'Write a prompt first.', param: 'prompt'}})], [], []);
      $('prompt').focus();
      return;
    }
    if (uploadsPending()) {
      $('msg-form').textContent = 'Wait for the uploads to finish.';
      return;
    }
    btn.disabled = true;
    const {req, sent} = buildRequest();
    try {
      const res = await api('v1/videos', {method: 'POST', json: req, headers: {'Idempotency-Key': randomId()}});
      const video = await res.json();
      showMessages([], video.warnings, sent);
      upsertCard(video, 'top');
      startRun(video);
      announce(`Video ${video.id} submitted: ${video.status}.`);
    } catch (err) {
      showMessages([err], [], sent);
      const bad = document.querySelector('#compose-form [aria-invalid="true"]');
      if (bad) bad.focus();
      announce(`Not submitted: ${errorText(err)}`);
    } finally {
      btn.disabled = false;
      if (state.me) showKey();
    }
  }
  function statusLine(v) {
    switch (v.status) {
      case 'queued':
        return v.queue_position ? `Queued · ${v.queue_position} ahead` : 'Queued · next';
      case 'in_progress':
        return `Rendering · ${v.stage} · ${v.progress} %`;
      case 'completed':
        return `Completed · ${v.progress} %`;
      case 'failed':
        return `Failed at ${(v.error && v.error.stage) || v.stage}`;
      case 'canceled':
        return 'Canceled';
      case 'expired':
        return 'Expired in the queue';
      default:
        return v.status;
    }
  }
  function startRun(video) {
    if (state.follow) state.follow.abort();
    state.current = video.id;
    $('run').hidden = false;
    $('run-result').hidden = true;
    const player = $('run-video');
    player.pause();
    player.removeAttribute('src');
    player.removeAttribute('poster');
    player.load();
    updateRun(video);
    follow(video.id);
  }
  function updateRun(v) {
    if (v.id !== state.current) return;
    const done = TERMINAL.has(v.status);
    $('run-summary').textContent = `${v.id} · ${v.engine} · ${v.size} · ${v.seconds === 'auto' ? 'auto length' : `${v.seconds} s`}`;
    $('run-progress').value = v.progress;
    $('run-status').textContent = statusLine(v);
    $('run').dataset.status = v.status;
    $('run').dataset.id = v.id;
    $('run-cancel').hidden = done;
    $('run-error').textContent = v.error ? `${v.error.message} (${v.error.code})` : '';
    $('run-warnings').replaceChildren(...(v.warnings || []).map((w) => el('li', {class: 'warn', text: `${w.message} (${w.code})`})));
    const urls = v.urls || {};
    if (v.status === 'completed' && urls.video) {
      const video = $('run-video');
      const src = contentUrl(urls.video);
      if (video.dataset.id !== v.id) {
        video.dataset.id = v.id;
        if (urls.thumbnail) video.poster = contentUrl(urls.thumbnail);
        video.src = src;
        video.load();
      }
      $('run-result').hidden = false;
      $('run-download').href = src;
      $('run-download').hidden = false;
      $('run-details').hidden = false;
    } else {
      $('run-download').hidden = true;
      $('run-details').hidden = !done;
    }
  }
  async function readEvents(res, onEvent) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (data) {
          try { onEvent(JSON.parse(data)); } catch { /* a comment or a partial line */ }
        }
        cut = buffer.indexOf('\n\n');
      }
    }
  }
  // Server-sent events of one job (`GET /v1/videos/{id}/events`), read with fetch() so that
  // the key goes in a header (EventSource cannot send one); polling if the stream breaks.
  async function follow(id) {
    const ctrl = new AbortController();
    state.follow = ctrl;
    let last = null;
    const seen = (v) => {
      last = v;
      upsertCard(v);
      updateRun(v);
      if (state.player && state.player.id === v.id) fillPlayer(v);
      if (TERMINAL.has(v.status)) announce(`Video ${v.id}: ${v.status}.`);
    };
    try {
      const res = await api(`v1/videos/${encodeURIComponent(id)}/events`, {signal: ctrl.signal, headers: {Accept: 'text/event-stream'}});
      await readEvents(res, seen);
    } catch (err) {
      if (err.name === 'AbortError') return;
    }
    while (!ctrl.signal.aborted && !(last && TERMINAL.has(last.status))) {
      await new Promise((r) => window.setTimeout(r, 1000));
      if (ctrl.signal.aborted) return;
      try {
        seen(await apiJson(`v1/videos/${encodeURIComponent(id)}`, {signal: ctrl.signal}));
      } catch (err) {
        if (err.name === 'AbortError' || err.status === 404) return;
      }
    }
  }
  async function cancelVideo(id) {
    try {
      const v = await apiJson(`v1/videos/${encodeURIComponent(id)}/cancel`, {method: 'POST'});
      upsertCard(v);
      updateRun(v);
      if (state.player && state.player.id === id) fillPlayer(v);
      announce(`Video ${id}: cancel requested.`);
      return v;
    } catch (err) {
      announce(`Not canceled: ${errorText(err)}`);
      return null;
    }
  }

  // ---------------------------------------------------------------- gallery

  function buildCard(v) {
    const open = el('button', {type: 'button', class: 'open', onclick: () => openPlayer(v.id)},
      el('div', {class: 'poster none', 'aria-hidden': 'true'}));
    const node = el('li', {class: 'card', 'data-id': v.id},
      open,
      el('div', {class: 'body'},
        el('p', {class: 'prompt'}),
        el('div', {class: 'row'},
          el('span', {class: 'badge'}), el('span', {class: 'cost'}),
          el('span', {class: 'shape'}), el('time', {class: 'when'})),
        el('progress', {max: '100', value: '0', 'aria-label': `Progress of ${v.id}`})));
    return node;
  }
  function fillCard(card, v) {
    const node = card.el;
    const open = node.querySelector('button.open');
    const prompt = v.prompt || '';
    open.setAttribute('aria-label', `Open ${v.id}, ${v.status}: ${prompt.slice(0, 80)}`);
    const thumb = v.urls && v.urls.thumbnail ? contentUrl(v.urls.thumbnail) : '';
    const current = open.firstElementChild;
    if (thumb && (current.tagName !== 'IMG' || current.dataset.id !== v.id)) {
      const img = el('img', {class: 'poster', src: thumb, alt: '', loading: 'lazy', 'data-id': v.id});
      current.replaceWith(img);
    } else if (!thumb && current.tagName !== 'DIV') {
      current.replaceWith(el('div', {class: 'poster none', 'aria-hidden': 'true'}));
    }
    const poster = open.firstElementChild;
    if (poster.tagName === 'DIV') {
      poster.textContent = {queued: 'queued', in_progress: `${v.progress} %`, failed: 'failed',
        canceled: 'canceled', expired: 'expired'}[v.status] || '';
    }
    node.querySelector('.prompt').textContent = prompt || '(no prompt)';
    const badge = node.querySelector('.badge');
    badge.className = `badge ${v.status}`;
    badge.textContent = v.status.replace('_', ' ');
    node.querySelector('.cost').textContent = v.usage ? fmtMoney(v.usage.cost, v.usage.currency) : '';
    node.querySelector('.shape').textContent = `${v.seconds === 'auto' ? 'auto' : `${v.seconds} s`} · ${v.size}`;
    const when = node.querySelector('.when');
    when.textContent = fmtTime(v.created_at);
    when.dateTime = new Date(v.created_at * 1000).toISOString();
    const bar = node.querySelector('progress');
    bar.hidden = TERMINAL.has(v.status);
    bar.value = v.progress;
    node.dataset.status = v.status;
  }
  function upsertCard(v, where) {
    let card = state.cards.get(v.id);
    if (!card) {
      if (!where) return;
      card = {video: v, el: buildCard(v)};
      state.cards.set(v.id, card);
      const list = $('gallery-list');
      if (where === 'top') list.prepend(card.el); else list.append(card.el);
    }
    card.video = v;
    fillCard(card, v);
    $('gallery-empty').hidden = state.cards.size > 0;
  }
  function removeCard(id) {
    const card = state.cards.get(id);
    if (!card) return;
    card.el.remove();
    state.cards.delete(id);
    $('gallery-empty').hidden = state.cards.size > 0;
  }
  function resetGallery() {
    state.cards.clear();
    $('gallery-list').replaceChildren();
    state.cursor = null;
    state.hasMore = true;
  }
  async function loadPage() {
    if (state.loadingPage || !state.hasMore || !state.booted) return;
    state.loadingPage = true;
    $('gallery-status').textContent = 'Loading videos…';
    try {
      const q = new URLSearchParams({limit: '12', order: 'desc'});
      if (state.cursor) q.set('after', state.cursor);
      const page = await apiJson(`v1/videos?${q}`);
      for (const v of page.data) upsertCard(v, 'bottom');
      state.cursor = page.last_id || state.cursor;
      state.hasMore = !!page.has_more;
      $('gallery-status').textContent = state.hasMore ? '' : (state.cards.size ? 'That is all.' : '');
    } catch (err) {
      $('gallery-status').textContent = `The gallery could not load: ${errorText(err)}`;
      state.hasMore = false;
    } finally {
      state.loadingPage = false;
      $('gallery-more').hidden = !state.hasMore;
      $('gallery-empty').hidden = state.cards.size > 0;
    }
    if (state.hasMore && nearView($('gallery-sentinel'))) loadPage();
  }
  function nearView(node) {
    const r = node.getBoundingClientRect();
    return r.top < window.innerHeight + 400;
  }
  // Jobs in the gallery still running that the Render panel does not follow: polled.
  async function pollActive() {
    for (const card of state.cards.values()) {
      const v = card.video;
      if (TERMINAL.has(v.status) || v.id === state.current) continue;
      try {
        const fresh = await apiJson(`v1/videos/${encodeURIComponent(v.id)}`);
        upsertCard(fresh);
        if (state.player && state.player.id === fresh.id) fillPlayer(fresh);
      } catch (err) {
        if (err.status === 404) removeCard(v.id);
      }
    }
  }

  // ---------------------------------------------------------------- player

  function requestOf(v) {
    const req = {
      prompt: v.prompt, model: v.model,
      seconds: /^\d+$/.test(String(v.seconds)) ? Number(v.seconds) : v.seconds,
      resolution: v.resolution,
      aspect_ratio: v.aspect_ratio, generate_audio: v.generate_audio, seed: v.seed, codec: v.codec,
    };
    if (v.metadata && Object.keys(v.metadata).length) req.metadata = v.metadata;
    return req;
  }
  function fact(name, value) {
    return value === null || value === undefined || value === '' ? [] : [el('dt', {text: name}), el('dd', {text: String(value)})];
  }
  function planItems(plan) {
    const fps = plan.fps || 24;
    return (plan.shots || []).map((shot, i) => {
      const t0 = shot.start_frame / fps;
      const t1 = (shot.start_frame + shot.num_frames) / fps;
      const camera = [shot.camera, ...((shot.then || []).map((t) => (typeof t === 'string' ? t : t.camera)).filter(Boolean))].join(' → ');
      const images = (shot.image_indices || []).map((n) => `@Image${n}`).join(' ');
      const parts = [`Shot ${i + 1}: ${t0.toFixed(2)}–${t1.toFixed(2)} s`, camera && `camera ${camera}`, images, shot.transition && i > 0 ? `${shot.transition} in` : ''];
      return el('li', {}, parts.filter(Boolean).join(' · '), shot.prompt ? el('div', {class: 'muted', text: shot.prompt}) : null);
    });
  }
  function fillPlayer(v) {
    state.player = v;
    $('player-title').textContent = v.id;
    const urls = v.urls || {};
    const video = $('player-video');
    const src = urls.video ? contentUrl(urls.video) : '';
    if (video.dataset.id !== v.id || (src && !video.getAttribute('src'))) {
      video.dataset.id = v.id;
      video.pause();
      if (src) {
        video.src = src;
        if (urls.thumbnail) video.poster = contentUrl(urls.thumbnail);
      } else {
        video.removeAttribute('src');
        video.removeAttribute('poster');
      }
      video.load();
    }
    video.hidden = !src;
    $('player-state').textContent = src ? '' : `${statusLine(v)}${v.error ? `: ${v.error.message}` : ''}`;
    const last = urls.last_frame ? contentUrl(urls.last_frame) : '';
    $('player-last-figure').hidden = !last;
    if (last && $('player-last').getAttribute('src') !== last) $('player-last').src = last;
    const q = v.quality;
    $('player-facts').replaceChildren(
      ...fact('Status', statusLine(v)),
      ...fact('Engine', v.engine),
      ...fact('Model', v.model),
      ...fact('Size', `${v.size} · ${v.fps} fps · ${v.codec}`),
      ...fact('Length', v.seconds === 'auto' ? 'auto' : `${v.seconds} s`),
      ...fact('Audio', v.generate_audio ? 'yes' : 'no'),
      ...fact('Seed', v.seed),
      ...fact('Cost', v.usage ? `${fmtMoney(v.usage.cost, v.usage.currency)} (${fmtSeconds(v.usage.billed_seconds)} billed)` : ''),
      ...fact('Created', fmtTime(v.created_at)),
      ...fact('Completed', fmtTime(v.completed_at)),
      ...fact('Quality', q ? `${q.verdict}${q.failed && q.failed.length ? ` (${q.failed.join(', ')})` : ''}` : (v.status === 'completed' ? 'being measured' : '')),
      ...fact('Error', v.error ? `${v.error.message} (${v.error.code})` : ''),
    );
    const warnings = v.warnings || [];
    $('player-warnings-box').hidden = !warnings.length;
    $('player-warnings').replaceChildren(...warnings.map((w) => el('li', {class: 'warn', text: `${w.message} (${w.code})`})));
    const plan = v.plan;
    $('player-plan-box').hidden = !(plan && plan.shots && plan.shots.length);
    $('player-plan').replaceChildren(...(plan ? planItems(plan) : []));
    $('player-request').textContent = JSON.stringify(requestOf(v), null, 2)
      + '\n// references are not kept with the video: attach them again';
    const done = TERMINAL.has(v.status);
    $('player-download').hidden = !src;
    if (src) $('player-download').href = src;
    $('player-cancel').hidden = done;
    const confirming = !$('player-delete-confirm').hidden;
    $('player-delete').hidden = !done || confirming;
    $('player-delete-confirm').hidden = !done || !confirming;
  }
  async function openPlayer(id) {
    const card = state.cards.get(id);
    $('player-msg').textContent = '';
    $('player-delete-confirm').hidden = true;
    $('player-delete').hidden = false;
    let v = card ? card.video : null;
    try {
      v = await apiJson(`v1/videos/${encodeURIComponent(id)}`); // fresh links and quality
      upsertCard(v);
    } catch (err) {
      if (!v) { announce(errorText(err)); return; }
    }
    fillPlayer(v);
    if (!$('player').open) $('player').showModal();
  }
  function closePlayer() {
    $('player-video').pause();
    $('player').close();
  }
  function useAsTemplate() {
    const v = state.player;
    if (!v) return;
    $('prompt').value = v.prompt || '';
    const model = [...$('model').options].find((o) => o.value === v.model && !o.disabled);
    if (model) { $('model').value = v.model; applyModel(false); }
    const setIf = (id, value) => {
      if ([...$(id).options].some((o) => o.value === String(value))) $(id).value = String(value);
    };
    setIf('resolution', v.resolution);
    setIf('aspect_ratio', v.aspect_ratio);
    setIf('seconds', v.seconds);
    setIf('codec', v.codec);
    if (!$('generate_audio').disabled) $('generate_audio').checked = !!v.generate_audio;
    $('seed').value = v.seed === null || v.seed === undefined ? '' : String(v.seed);
    closePlayer();
    promptChanged();
    savePrefs();
    $('prompt').focus();
    announce(`The form now holds the request of ${v.id}; attach its references again.`);
  }
  async function deleteVideo() {
    const v = state.player;
    if (!v) return;
    try {
      await apiJson(`v1/videos/${encodeURIComponent(v.id)}`, {method: 'DELETE'});
    } catch (err) {
      $('player-msg').textContent = errorText(err);
      return;
    }
    removeCard(v.id);
    if (state.current === v.id) {
      state.current = null;
      $('run').hidden = true;
    }
    closePlayer();
    announce(`Video ${v.id} deleted.`);
    $('gallery-title').parentElement.focus();
  }

  // ---------------------------------------------------------------- start

  function bind() {
    $('key-form').addEventListener('submit', saveKey);
    $('key-cancel').addEventListener('click', () => $('key-dialog').close());
    $('key-change').addEventListener('click', () => openKeyDialog());
    $('key-forget').addEventListener('click', forgetKey);

    const input = $('ref-input');
    input.addEventListener('change', () => { addFiles([...input.files]); input.value = ''; });
    const zone = $('dropzone');
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      if (e.dataTransfer && e.dataTransfer.files.length) addFiles([...e.dataTransfer.files]);
    });
    // A file dropped elsewhere must not navigate away from the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());

    const box = $('prompt');
    box.addEventListener('input', promptChanged);
    box.addEventListener('keydown', promptKeydown);
    box.addEventListener('click', updateSuggestions);
    box.addEventListener('keyup', (e) => {
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) updateSuggestions();
    });
    box.addEventListener('blur', () => window.setTimeout(closeSuggestions, 100));
    box.addEventListener('scroll', () => { $('prompt-mirror').scrollTop = box.scrollTop; });
    new ResizeObserver(() => renderMirror()).observe(box);

    $('model').addEventListener('change', () => { applyModel(false); savePrefs(); scheduleQuote(); });
    for (const id of ['resolution', 'aspect_ratio', 'seconds', 'codec', 'generate_audio']) {
      $(id).addEventListener('change', () => { savePrefs(); scheduleQuote(); });
    }
    $('seed').addEventListener('input', scheduleQuote);
    $('compose-form').addEventListener('submit', submit);

    $('run-cancel').addEventListener('click', () => state.current && cancelVideo(state.current));
    $('run-details').addEventListener('click', () => state.current && openPlayer(state.current));

    $('gallery-more').addEventListener('click', loadPage);
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadPage();
    }, {rootMargin: '400px'}).observe($('gallery-sentinel'));

    $('player-close').addEventListener('click', closePlayer);
    $('player').addEventListener('close', () => $('player-video').pause());
    $('player').addEventListener('click', (e) => { if (e.target === $('player')) closePlayer(); });
    $('player-template').addEventListener('click', useAsTemplate);
    $('player-cancel').addEventListener('click', () => state.player && cancelVideo(state.player.id));
    $('player-delete').addEventListener('click', () => {
      $('player-delete').hidden = true;
      $('player-delete-confirm').hidden = false;
      $('player-delete-confirm').focus();
    });
    $('player-delete-confirm').addEventListener('click', deleteVideo);
    window.setInterval(pollActive, 2000);
  }

  async function boot() {
    banner('');
    try {
      state.me = await apiJson('v1/keys/me');
    } catch (err) {
      if (err.status !== 401) banner(`The server cannot be reached: ${errorText(err)}`);
      return;
    }
    showKey();
    try {
      await Promise.all([loadLimits(), loadModels()]);
    } catch (err) {
      banner(`The models could not load: ${errorText(err)}`);
    }
    renderLimits();
    state.booted = true;
    resetGallery();
    loadPage();
    scheduleQuote();
    document.body.dataset.ready = 'true';
  }

  bind();
  renderMirror();
  if (state.key) boot(); else openKeyDialog();
})();
