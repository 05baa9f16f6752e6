// The API key: asked once, kept in localStorage, checked with GET /v1/keys/me.
import {apiJson, errorText} from './api.js';
import {boot} from './boot.js';
import {$, announce, fmtMoney, KEY_STORE, state, writeStore} from './util.js';

export function unauthorized() {
  if (!$('key-dialog').open) openKeyDialog('The server refused the saved key: enter a valid one.');
}

export function openKeyDialog(reason) {
  $('msg-key').textContent = reason || '';
  $('api-key').value = '';
  $('api-key').setAttribute('aria-invalid', reason ? 'true' : 'false');
  $('key-cancel').hidden = !state.key;
  if (!$('key-dialog').open) $('key-dialog').showModal();
  $('api-key').focus();
}

export async function saveKey(event) {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) {
    $('msg-key').textContent = 'Enter the API key (it starts with rf_).';
    $('api-key').setAttribute('aria-invalid', 'true');
    $('api-key').focus();
    return;
  }
  $('key-save').disabled = true;
  try {
    await apiJson('v1/keys/me', {key});
  } catch (err) {
    $('msg-key').textContent = err.status === 401
      ? `This key was refused: ${err.message}` : errorText(err);
    $('api-key').setAttribute('aria-invalid', 'true');
    $('api-key').focus();
    return;
  } finally {
    $('key-save').disabled = false;
  }
  state.key = key;
  writeStore(KEY_STORE, key);
  $('key-dialog').close();
  announce('API key saved in this browser.');
  await boot();
  $('prompt').focus();
}

export function forgetKey() {
  state.key = '';
  writeStore(KEY_STORE, null);
  state.me = null;
  $('key-label').textContent = 'No API key';
  $('key-forget').hidden = true;
  $('key-change').textContent = 'Set API key';
  announce('API key removed from this browser.');
  openKeyDialog();
}

export function showKey() {
  const me = state.me;
  const tail = state.key.slice(-4);
  let text = `Key: ${me.name || me.id} (…${tail})`;
  if (me.balance !== null && me.balance !== undefined) text += ` · balance ${fmtMoney(me.balance)}`;
  $('key-label').textContent = text;
  $('key-forget').hidden = false;
  $('key-change').textContent = 'Change key';
  const canGenerate = (me.scopes || []).some((s) => s === 'generate' || s === 'admin');
  $('submit').disabled = !canGenerate;
  $('msg-form').textContent = canGenerate ? '' : 'This key may only read: it cannot create videos.';
}
