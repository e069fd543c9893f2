import { api, errorMessage } from '../api.js';
import { go } from '../nav.js';
import { ceremonyMessage, passkeysSupported, signInWithPasskey } from '../passkey.js';
import { signedIn } from '../session.js';
import { alertBox, focusHeading, h, show } from '../ui.js';

/** Signed in: home, or first the passkeys screen when the clinic asks for one not yet made. */
async function enter(answer) {
  await signedIn(answer);
  go(answer.user.passkey_needed ? '#/passkeys?needed=1' : '#/');
}

export async function render(main, params) {
  const error = h('div');
  const expired = params && params.get('expired')
    ? h('p', { class: 'notice' }, 'Your session has ended. Sign in again; anything saved on this phone is sent then.')
    : null;
  const form = h('form', { class: 'stack', novalidate: true },
    h('h1', {}, 'Sign in'),
    expired,
    error,
    h('label', { for: 'email' }, 'Email'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    // Not named "Sign in ...": one button on this screen answers to "Sign in".
    passkeysSupported()
      ? h('button', { type: 'button', class: 'passkey', onclick: () => withPasskey() }, 'Use a passkey instead')
      : null,
    h('p', {}, 'New here? ', h('a', { href: '#/enroll' }, 'Create your account with the code from your clinic')),
    h('p', {}, 'Forgot your password? ', h('a', { href: '#/reset' }, 'I have a reset code')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const answer = await api('/auth/login', {
        method: 'POST',
        body: { email: String(data.get('email')).trim(), password: String(data.get('password')) },
      });
      await enter(answer);
    } catch (failure) {
      show(error, alertBox(errorMessage(failure)));
      form.querySelector('#password').focus();
    } finally {
      button.disabled = false;
    }
  });
  const withPasskey = async () => {
    const button = form.querySelector('button.passkey');
    button.disabled = true;
    try {
      await enter(await signInWithPasskey());
    } catch (failure) {
      show(error, alertBox(ceremonyMessage(failure) || errorMessage(failure)));
      button.focus();
    } finally {
      button.disabled = false;
    }
  };
  show(main, form);
  document.title = 'Sign in · Tidemark';
  focusHeading(main);
}
