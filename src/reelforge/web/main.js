// reelforge playground and gallery (docs/playground.md): plain JavaScript modules against the
// native API (/v1), nothing built, nothing loaded from anywhere but this server. The API key
// lives in localStorage and is sent in the Authorization header only; videos and posters
// load from the signed links of the Video object (`urls`), which need no header.
import {boot} from './boot.js';
import {scheduleQuote, submit} from './compose.js';
import {loadPage, pollActive} from './gallery.js';
import {forgetKey, openKeyDialog, saveKey} from './key.js';
import {
  closeSuggestions,
  promptChanged,
  promptKeydown,
  renderMirror,
  updateSuggestions,
} from './mentions.js';
import {applyModel} from './models.js';
import {closePlayer, deleteVideo, openPlayer, useAsTemplate} from './player.js';
import {addFiles} from './refs.js';
import {cancelVideo} from './run.js';
import {$, savePrefs, state} from './util.js';

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

bind();
renderMirror();
if (state.key) boot(); else openKeyDialog();
