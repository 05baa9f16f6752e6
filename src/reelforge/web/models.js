// Models (GET /v1/models) and the limits shown before an upload (GET /web/limits).
import {apiJson} from './api.js';
import {$, el, fmtBytes, fmtMoney, prefs, state} from './util.js';

export function currentModel() {
  return state.models.find((m) => m.id === $('model').value) || null;
}

export function fillSelect(select, options, wanted) {
  const keep = wanted !== undefined ? wanted : select.value;
  select.replaceChildren(...options.map(([value, label]) => el('option', {value, text: label})));
  const values = options.map(([v]) => v);
  if (values.includes(String(keep))) select.value = String(keep);
  return select.value;
}

export async function loadModels() {
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

export function applyModel(first) {
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

export async function loadLimits() {
  state.limits = await apiJson('web/limits');
}

export function kindLimit(kind) {
  const l = state.limits && state.limits[kind];
  const m = currentModel();
  const engine = m ? m.accepts.references[kind] : null;
  return {count: l ? Math.min(l.count, engine ?? l.count) : engine ?? 0, bytes: l ? l.bytes : Infinity};
}

export function renderLimits() {
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
