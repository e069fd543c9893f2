// The patient's account: their password and the devices where they are signed in.

import { devicesSection, passwordSection } from '../account.js';
import { state } from '../session.js';
import { focusHeading, h, show } from '../ui.js';

export async function render(main) {
  document.title = 'Account · Tidemark';
  const devices = h('div');
  const drawDevices = () => show(devices, devicesSection());
  drawDevices();
  show(main,
    h('h1', {}, 'Account'),
    h('p', {}, `Signed in as ${state.user.email}.`),
    h('section', { class: 'card', 'aria-labelledby': 'reminders-title' },
      h('h2', { id: 'reminders-title' }, 'Reminders'),
      h('p', {}, 'When to remind you of a check-in, quiet hours, and reminders around your sessions.'),
      h('p', {}, h('a', { class: 'button', href: '#/reminders' }, 'Reminder settings'))),
    passwordSection(drawDevices),
    devices,
    h('p', {}, 'To sign out of this phone, go to ', h('a', { href: '#/data' }, 'My data'), '.'));
  focusHeading(main);
}
