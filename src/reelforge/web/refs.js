// References: checked against the limits, uploaded with POST /v1/files, shown as tiles.
import {ApiError} from './api.js';
import {scheduleQuote} from './compose.js';
import {unauthorized} from './key.js';
import {renderMirror} from './mentions.js';
import {kindLimit} from './models.js';
import {$, announce, BASE, capital, el, fmtBytes, fmtSeconds, ROLES, state} from './util.js';

export function kindOf(file) {
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

export function liveRefs() {
  return state.refs.filter((r) => r.status !== 'error');
}

export function readyRefs() {
  return state.refs.filter((r) => r.status === 'ready');
}

export function uploadsPending() {
  return state.refs.some((r) => r.status === 'uploading');
}

export function relabel() {
  const counts = {image: 0, video: 0, audio: 0};
  for (const r of state.refs) {
    if (r.status === 'error') { r.label = null; continue; }
    counts[r.kind] += 1;
    r.label = `${capital(r.kind)}${counts[r.kind]}`;
  }
  for (const r of state.refs) renderRef(r);
}

export function precheck(file, kind) {
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

export function addFiles(files) {
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

export function upload(ref) {
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

export function removeRef(ref) {
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

export function buildRef(ref) {
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

export function renderRef(ref) {
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
