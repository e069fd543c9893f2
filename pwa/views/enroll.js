import { api, errorMessage } from '../api.js';
import { go } from '../nav.js';
import { signedIn } from '../session.js';
import { alertBox, focusHeading, h, show } from '../ui.js';

export async function render(main, params) {
  const code = (params && params.get('code')) || '';
  const error = h('div');
  const form = h('form', { class: 'stack', novalidate: true },
    h('h1', {}, 'Create your account'),
    h('p', {}, 'Your clinic gave you an enrollment code. It works once.'),
    error,
    h('label', { for: 'code' }, 'Enrollment code'),
    h('input', { id: 'code', name: 'code', autocomplete: 'one-time-code', autocapitalize: 'characters', value: code, required: true }),
    h('label', { for: 'email' }, 'Email'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Choose a password'),
    h('p', { id: 'password-hint', class: 'hint' }, 'At least 10 characters. A few words you will remember works well.'),
    h('input', {
      id: 'password', name: 'password', type: 'password', autocomplete: 'new-password',
      minlength: 10, required: true, 'aria-describedby': 'password-hint',
    }),
    h('button', { type: 'submit', class: 'primary' }, 'Create account'),
    h('p', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const answer = await api('/auth/enroll', {
        method: 'POST',
        body: {
          code: String(data.get('code')).trim(),
          email: String(data.get('email')).trim(),
          password: String(data.get('password')),
        },
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
  document.title = 'Create your account · Tidemark';
  focusHeading(main);
}
