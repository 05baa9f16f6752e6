// Start with a key: who it is, the models and limits, the first page of the gallery.
import {apiJson, errorText} from './api.js';
import {scheduleQuote} from './compose.js';
import {loadPage, resetGallery} from './gallery.js';
import {showKey} from './key.js';
import {loadLimits, loadModels, renderLimits} from './models.js';
import {banner, state} from './util.js';

export async function boot() {
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
