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

// The settings a model takes, offered as its `accepts` says; the remembered choice (first time)
// or the current one kept where the new model takes it too.
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
  const offer = (id, options, ...wanted) => {
    fillSelect($(id), options, wanted.find((w) => w && options.some(([v]) => v === String(w))));
  };
  offer('resolution', acc.resolutions.map((r) => [r, r]), p.resolution, $('resolution').value, '720p');
  const ratio = (a) => [a, a === 'auto' ? 'auto (from the first image or video)' : a];
  offer('aspect_ratio', acc.aspect_ratios.map(ratio), p.aspect_ratio, $('aspect_ratio').value, '16:9');
  const secs = acc.seconds.auto ? [['auto', 'auto (as the prompt needs)']] : [];
  for (let s = acc.seconds.min; s <= acc.seconds.max; s += 1) secs.push([String(s), `${s} s`]);
  offer('seconds', secs, p.seconds, $('seconds').value, '5');
  const codec = (c) => [c, {h264: 'H.264', h265: 'H.265'}[c] || c];
  offer('codec', acc.codecs.map(codec), p.codec, $('codec').value, 'h264');
  const audio = $('generate_audio');
  audio.disabled = !acc.audio_out;
  if (!acc.audio_out) audio.checked = false;
  else if (first && typeof p.generate_audio === 'boolean') audio.checked = p.generate_audio;
  $('audio-note').textContent = acc.audio_out ? '' : `${m.id} makes no sound.`;

  const preset = m.preset && m.preset !== 'default' ? `:${m.preset}` : '';
  note.append(m.kind === 'engine' ? m.summary || '' : `${m.summary || ''} (engine ${m.engine}${preset})`);
  const price = Object.entries((m.pricing && m.pricing.per_second) || {})
    .map(([r, v]) => `${r} ${fmtMoney(v, m.pricing.currency)}/s`).join(' · ');
  if (price) note.append(el('span', {class: 'price'}, ` Price: ${price}.`));
  const down = state.models.filter((x) => !x.ready && x.kind === 'engine');
  if (down.length) {
    const why = (x) => el('li', {}, el('strong', {text: x.id}), `: ${x.reason || 'not ready'}`);
    note.append(el('details', {},
      el('summary', {text: `${down.length} engine${down.length > 1 ? 's' : ''} not ready`}),
      el('ul', {}, down.map(why))));
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
  const l = state.limits;
  if (!l) return;
  const m = currentModel();
  const n = (kind) => kindLimit(kind).count;
  const range = (a, b, unit = '') => `${+a}–${+b}${unit}`;
  const {image, video, audio} = l;
  const lines = [
    [`Images: up to ${n('image')}`, image.formats.join(', '), `${fmtBytes(image.bytes)} each`,
      `sides ${range(image.min_side, image.max_side, ' px')}, width/height ${range(image.min_aspect, image.max_aspect)}`],
    [`Videos: up to ${n('video')}`, video.formats.join(', '), `${fmtBytes(video.bytes_total)} together`,
      `${range(video.min_seconds, video.max_seconds, ' s')} each, ${+video.max_seconds_total} s together`,
      range(video.min_fps, video.max_fps, ' fps')],
    [`Audio: up to ${n('audio')}`, audio.formats.join(', '), `${fmtBytes(audio.bytes)} each`,
      `${range(audio.min_seconds, audio.max_seconds, ' s')} each, ${+audio.max_seconds_total} s together`,
      l.audio_requires_visual ? 'needs an image or a video' : ''],
    [`${l.max_references} files in all`, m ? `counts for ${m.id}` : '',
      'roles: reference, first frame, last frame (images)'],
  ];
  const items = lines.map((parts) => el('li', {text: parts.filter(Boolean).join(' · ')}));
  $('ref-limits').replaceChildren(el('ul', {class: 'limits'}, items));
}
