// The gallery: the key's videos newest first, by cursor as it scrolls.
import {apiJson, errorText} from './api.js';
import {fillPlayer, openPlayer} from './player.js';
import {$, contentUrl, el, fmtMoney, fmtTime, state, TERMINAL} from './util.js';

export function buildCard(v) {
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

export function fillCard(card, v) {
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
  node.querySelector('.cost').textContent = v.usage && TERMINAL.has(v.status)
    ? fmtMoney(v.usage.cost, v.usage.currency) : '';
  node.querySelector('.shape').textContent = `${v.seconds === 'auto' ? 'auto' : `${v.seconds} s`} · ${v.size}`;
  const when = node.querySelector('.when');
  when.textContent = fmtTime(v.created_at);
  when.dateTime = new Date(v.created_at * 1000).toISOString();
  const bar = node.querySelector('progress');
  bar.hidden = TERMINAL.has(v.status);
  bar.value = v.progress;
  node.dataset.status = v.status;
}

export function upsertCard(v, where) {
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

export function removeCard(id) {
  const card = state.cards.get(id);
  if (!card) return;
  card.el.remove();
  state.cards.delete(id);
  $('gallery-empty').hidden = state.cards.size > 0;
}

export function resetGallery() {
  state.cards.clear();
  $('gallery-list').replaceChildren();
  state.cursor = null;
  state.hasMore = true;
}

export async function loadPage() {
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

export function nearView(node) {
  const r = node.getBoundingClientRect();
  return r.top < window.innerHeight + 400;
}

// Jobs in the gallery still running that the Render panel does not follow: polled.
export async function pollActive() {
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
