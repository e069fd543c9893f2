// "I have a reset code": the code the clinic gave, a new password, and the person is signed in.

import { api, errorMessage } from '../api.js';
import { go } from '../nav.js';
import { signedIn } from '../session.js';
import { alertBox, focusHeading, h, show } from '../ui.js';

export async function render(main, params) {
  const code = (params && params.get('code')) || '';
  const error = h('div');
  const form = h('form', { class: 'stack', novalidate: true },
    h('h1', {}, 'Set a new password'),
    h('p', {}, 'Your clinic gave you a reset code. It works once; every other device where you were signed in is signed out.'),
    error,
    h('label', { for: 'reset-code' }, 'Reset code'),
    h('input', { id: 'reset-code', name: 'code', autocomplete: 'one-time-code', autocapitalize: 'characters', value: code, required: true }),
    h('label', { for: 'new-password' }, 'New password'),
    h('p', { id: 'new-password-hint', class: 'hint' }, 'At least 10 characters. A few words you will remember works well.'),
    h('input', {
      id: 'new-password', name: 'new_password', type: 'password', autocomplete: 'new-password',
      minlength: 10, required: true, 'aria-describedby': 'new-password-hint',
    }),
    h('button', { type: 'submit', class: 'primary' }, 'Set password and sign in'),
    h('p', {}, h('a', { href: '#/signin' }, 'Back to sign in')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const answer = await api('/auth/reset', {
        method: 'POST',
        body: { code: String(data.get('code')).trim(), new_password: String(data.get('new_password')) },
      });
      await signedIn(answer);
      go('#/');
    } catch (failure) {
      show(error, alertBox(errorMessage(failure)));
      error.querySelector('[role=alert]').setAttribute('tabindex', '-1');
      error.querySelector('[role=alert]').focus();
    } finally {
      button.disabled = false;
    }
  });
  show(main, form);
  document.title = 'Set a new password · Tidemark';
  focusHeading(main);
}
