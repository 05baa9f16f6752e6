// The prompt: @Image1 / @Video1 / @Audio1 highlighting and autocomplete.
import {scheduleQuote} from './compose.js';
import {liveRefs} from './refs.js';
import {$, announce, el, MENTION_RE, state} from './util.js';

export function mentionable() {
  return liveRefs().filter((r) => r.label);
}

export function mentionKey(kind, index) {
  return `${kind.toLowerCase()}${Number(index)}`;
}

// UTF-16 offsets of Python's code-point offsets (warning spans).
export function utf16Offset(text, codePoints) {
  let units = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen >= codePoints) break;
    units += ch.length;
    seen += 1;
  }
  return units;
}

export function renderMirror(caret) {
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

export function mentionQuery() {
  const box = $('prompt');
  const pos = box.selectionStart;
  if (pos !== box.selectionEnd) return null;
  const before = box.value.slice(0, pos);
  const m = /(^|[^\w@])@([A-Za-z]*\d*)$/.exec(before);
  if (!m) return null;
  return {start: pos - m[2].length - 1, end: pos, text: m[2]};
}

export function updateSuggestions() {
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

export function closeSuggestions() {
  const s = state.suggest;
  s.open = false;
  s.items = [];
  $('mention-list').hidden = true;
  $('prompt').setAttribute('aria-expanded', 'false');
  $('prompt').removeAttribute('aria-activedescendant');
}

export function moveSuggestion(step) {
  const s = state.suggest;
  s.active = (s.active + step + s.items.length) % s.items.length;
  const options = $('mention-list').children;
  for (let i = 0; i < options.length; i += 1) options[i].setAttribute('aria-selected', i === s.active ? 'true' : 'false');
  $('prompt').setAttribute('aria-activedescendant', `mention-opt-${s.active}`);
}

export function acceptSuggestion(i) {
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

export function promptKeydown(e) {
  const s = state.suggest;
  if (!s.open) return;
  if (e.key === 'ArrowDown') { e.preventDefault(); moveSuggestion(1); }
  else if (e.key === 'ArrowUp') { e.preventDefault(); moveSuggestion(-1); }
  else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); acceptSuggestion(s.active); }
  else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeSuggestions(); }
}

export function promptChanged() {
  state.spans = [];
  renderMirror();
  updateSuggestions();
  scheduleQuote();
}
