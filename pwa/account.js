// The account's own settings, shared by the patient's Account screen and the clinician's
// account page: changing the password, and the browsers and devices signed in.

import { allPages, api, errorMessage } from './api.js';
import { dayAndTime } from './format.js';
import { alertBox, announce, button, h, show } from './ui.js';
import { apiForm, field } from './widgets.js';

/** "Change password": the current one, then the new one; every other device is signed out. */
export function passwordSection(onChanged) {
  const status = h('div', { 'aria-live': 'polite' });
  const form = apiForm({
    path: '/auth/password',
    submitLabel: 'Change password',
    build: (data) => ({
      current_password: String(data.get('current_password')),
      new_password: String(data.get('new_password')),
    }),
    done: async (_answer, changed) => {
      changed.reset();
      show(status, h('p', { class: 'notice', role: 'status', tabindex: '-1' },
        'Password changed. Every other device where you were signed in is now signed out.'));
      status.firstChild.focus();
      if (onChanged) await onChanged();
    },
    children: [
      field('Current password', h('input', {
        name: 'current_password', type: 'password', autocomplete: 'current-password', required: true,
      })),
      field('New password', h('input', {
        name: 'new_password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true,
      }), 'At least 10 characters. A few words you will remember works well.'),
    ],
  });
  return h('section', { class: 'card', 'aria-labelledby': 'password-title' },
    h('h2', { id: 'password-title' }, 'Change password'),
    status,
    form);
}

/** What a user agent string says in words a person recognises, roughly. */
function deviceName(userAgent) {
  if (!userAgent) return 'Unknown browser';
  const browser = [['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']]
    .find(([mark]) => userAgent.includes(mark));
  const system = [['Android', 'Android'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Windows', 'Windows'],
    ['Mac OS', 'Mac'], ['Linux', 'Linux']].find(([mark]) => userAgent.includes(mark));
  if (!browser && !system) return userAgent.slice(0, 60);
  return [browser && browser[1], system && `on ${system[1]}`].filter(Boolean).join(' ');
}

/** "Signed-in devices": this one and the others, each of which can be signed out. */
export function devicesSection() {
  const section = h('section', { class: 'card', 'aria-labelledby': 'devices-title' });
  const message = h('div', { 'aria-live': 'polite' });
  const end = async (path, done) => {
    try {
      await api(path, { method: 'DELETE' });
      announce(done);
      await draw();
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  };
  const draw = async () => {
    let sessions;
    try {
      sessions = await allPages('/auth/sessions');
    } catch (error) {
      show(section, h('h2', { id: 'devices-title' }, 'Signed-in devices'), alertBox(errorMessage(error)));
      return;
    }
    const others = sessions.filter((s) => !s.current);
    show(section,
      h('h2', { id: 'devices-title' }, 'Signed-in devices'),
      h('p', {}, 'Where you are signed in now. Sign out a device you do not know or no longer use.'),
      message,
      h('ul', { class: 'devices' }, sessions.map((s) => h('li', {},
        h('strong', {}, deviceName(s.user_agent)), s.current ? ' (this device)' : '',
        h('br'),
        h('span', { class: 'hint' }, `Signed in ${dayAndTime(s.created_at)}, last active ${dayAndTime(s.last_seen_at)}`),
        s.current ? null : h('div', {}, button('Sign out this device',
          () => end(`/auth/sessions/${s.id}`, 'That device is signed out.'),
          { 'aria-label': `Sign out ${deviceName(s.user_agent)}, signed in ${dayAndTime(s.created_at)}` }))))),
      others.length
        ? button('Sign out everywhere else', () => end('/auth/sessions', 'Every other device is signed out.'), { class: 'danger' })
        : h('p', { class: 'hint' }, 'You are not signed in anywhere else.'));
  };
  draw();
  return section;
}
