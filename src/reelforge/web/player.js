// The player: video, last frame, shot plan, warnings, request; template, delete.
import {apiJson, errorText} from './api.js';
import {removeCard, upsertCard} from './gallery.js';
import {promptChanged} from './mentions.js';
import {applyModel} from './models.js';
import {statusLine} from './run.js';
import {
  $,
  announce,
  contentUrl,
  el,
  fmtMoney,
  fmtSeconds,
  fmtTime,
  savePrefs,
  state,
  TERMINAL,
} from './util.js';

export function requestOf(v) {
  const req = {
    prompt: v.prompt, model: v.model,
    seconds: /^\d+$/.test(String(v.seconds)) ? Number(v.seconds) : v.seconds,
    resolution: v.resolution,
    aspect_ratio: v.aspect_ratio, generate_audio: v.generate_audio, seed: v.seed, codec: v.codec,
  };
  if (v.metadata && Object.keys(v.metadata).length) req.metadata = v.metadata;
  return req;
}

export function fact(name, value) {
  return value === null || value === undefined || value === '' ? [] : [el('dt', {text: name}), el('dd', {text: String(value)})];
}

export function planItems(plan) {
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

export function fillPlayer(v) {
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

export async function openPlayer(id) {
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

export function closePlayer() {
  $('player-video').pause();
  $('player').close();
}

export function useAsTemplate() {
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

export async function deleteVideo() {
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
