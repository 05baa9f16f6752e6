// The Render panel: progress by server-sent events, the video, cancel.
import {api, apiJson, errorText} from './api.js';
import {upsertCard} from './gallery.js';
import {fillPlayer} from './player.js';
import {$, announce, contentUrl, el, state, TERMINAL} from './util.js';

export function statusLine(v) {
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

export function startRun(video) {
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
  // One column (a phone): the panel is below the composer; bring it into view.
  const box = $('run').getBoundingClientRect();
  if (box.top > window.innerHeight || box.bottom < 0) $('run').scrollIntoView({block: 'nearest'});
}

export function updateRun(v) {
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

export async function readEvents(res, onEvent) {
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
export async function follow(id) {
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

export async function cancelVideo(id) {
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
