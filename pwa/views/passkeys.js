// Passkeys: sign in with this phone's screen lock or a security key instead of a password.
// Register one (named), see them all with when each was last used, remove one.

import { allPages, api, errorMessage } from '../api.js';
import { dayAndTime } from '../format.js';
import { ceremonyMessage, passkeysSupported, registerPasskey } from '../passkey.js';
import { loadSession, state } from '../session.js';
import { alertBox, button, focusHeading, h, show } from '../ui.js';

export async function render(main, params, notice = null) {
  document.title = 'Passkeys · Tidemark';
  const passkeys = await allPages('/auth/passkeys');
  const message = h('div', { 'aria-live': 'polite' });
  const again = (text) => render(main, params, text);
  const patient = state.user.role === 'patient';
  const needed = state.user.passkey_needed
    ? h('div', { class: 'warning', role: 'status' },
      h('p', {}, h('strong', {}, 'Your clinic asks you to sign in with a passkey. '),
        'Register one now, on the phone or computer you use for Tidemark. From then on your password alone will not sign you in.'))
    : null;

  const remove = async (passkey) => {
    try {
      await api(`/auth/passkeys/${passkey.id}`, { method: 'DELETE' });
      await again(`The passkey "${passkey.name}" was removed.`);
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  };

  show(main,
    h('h1', {}, 'Passkeys'),
    h('p', {}, h('a', { href: patient ? '#/data' : '#/admin' }, patient ? 'Back to My data' : 'Back to Account')),
    h('p', {}, 'A passkey lets you sign in with your phone\'s screen lock (fingerprint, face or PIN) or a security key, without typing your password. It cannot be guessed or used on another website.'),
    needed,
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    message,
    h('section', { class: 'card', 'aria-labelledby': 'passkeys-title' },
      h('h2', { id: 'passkeys-title' }, 'Your passkeys'),
      passkeys.length ? h('ul', { class: 'passkeys' }, passkeys.map((passkey) => h('li', {},
        h('strong', {}, passkey.name),
        h('span', { class: 'hint' }, ` added ${dayAndTime(passkey.created_at)}, ${passkey.last_used_at ? `last used ${dayAndTime(passkey.last_used_at)}` : 'not used yet'}`),
        button('Remove', () => remove(passkey), { 'aria-label': `Remove the passkey ${passkey.name}` }))))
        : h('p', {}, 'No passkeys yet.')),
    h('section', { class: 'card', 'aria-labelledby': 'new-passkey-title' },
      h('h2', { id: 'new-passkey-title' }, 'Add a passkey'),
      passkeysSupported() ? newPasskeyForm(message, again)
        : h('p', {}, 'This browser cannot make passkeys. Try a recent Chrome, Safari, Edge or Firefox.')));
  focusHeading(main);
}

function newPasskeyForm(message, again) {
  const form = h('form', { class: 'stack', novalidate: true },
    h('label', { for: 'passkey-name' }, 'Name it, so that you can tell your passkeys apart'),
    h('input', { id: 'passkey-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off', placeholder: 'For example: My phone' }),
    h('button', { type: 'submit', class: 'primary' }, 'Add a passkey on this device'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = String(new FormData(form).get('name')).trim();
    if (!name) {
      show(message, alertBox('Give the passkey a name first.'));
      form.querySelector('input').focus();
      return;
    }
    const submit = form.querySelector('button');
    submit.disabled = true;
    try {
      const passkey = await registerPasskey(name);
      await loadSession(); // the clinic's "register a passkey" reminder ends now
      await again(`The passkey "${passkey.name}" was added. Next time, choose "Use a passkey instead" when you sign in.`);
    } catch (error) {
      show(message, alertBox(ceremonyMessage(error) || errorMessage(error)));
      submit.disabled = false;
    }
  });
  return form;
}
