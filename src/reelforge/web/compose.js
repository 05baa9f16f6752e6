// The request: messages next to the field they name, the live quote, submit.
import {api, ApiError, apiJson, errorText} from './api.js';
import {upsertCard} from './gallery.js';
import {showKey} from './key.js';
import {renderMirror} from './mentions.js';
import {readyRefs, renderRef, uploadsPending} from './refs.js';
import {startRun} from './run.js';
import {$, announce, el, FIELD_OF_PARAM, fmtMoney, fmtSeconds, randomId, state} from './util.js';

export function controlOf(field) {
  if (field === 'form') return null;
  if (field === 'references') return $('ref-input');
  return $(field);
}

export function targetOf(param, referenceIndex) {
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
export function showMessages(errors, warnings, sent) {
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

export function buildRequest() {
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

export function scheduleQuote() {
  window.clearTimeout(state.quoteTimer);
  $('quote').classList.add('stale');
  state.quoteTimer = window.setTimeout(runQuote, 300);
}

export async function runQuote() {
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

export async function submit(e) {
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
