// The patient's reminder settings: whether this phone gets reminders, when a check-in is
// reminded, quiet hours, and the reminders before and after a session.

import { api } from '../api.js';
import { pushStatus, resendSubscription, turnOff, turnOn } from '../push.js';
import { state, vocabularies } from '../session.js';
import { alertBox, button, focusHeading, h, show } from '../ui.js';
import { reminderSettingsForm } from '../reminder-settings.js';

export async function render(main) {
  document.title = 'Reminders · Tidemark';
  const path = `/patients/${state.user.patient_id}/reminders`;
  if (await pushStatus() === 'on') await resendSubscription().catch(() => {});
  const [settings, words] = await Promise.all([api(path), vocabularies()]);
  const here = h('section', { class: 'card', 'aria-labelledby': 'here-title' });
  await drawHere(here, path, settings.devices);
  show(main,
    h('h1', {}, 'Reminders'),
    h('p', {}, 'Tidemark can remind you when a check-in is due. A reminder never shows your answers or scores.'),
    here,
    reminderSettingsForm(path, settings, words.pre_session_reminders),
    h('p', {}, h('a', { href: '#/account' }, 'Back to Account')));
  focusHeading(main);
}

const HERE_WORDS = {
  on: 'Reminders come to this device.',
  ask: 'Reminders do not come to this device yet.',
  blocked: 'Notifications are blocked for Tidemark in this browser. To get reminders, allow notifications for this site in the browser\'s settings, then come back here.',
  unsupported: 'This browser cannot show reminders. Chrome, Edge, Firefox and Safari can.',
};

/** "On this device": whether reminders come here, and the button that changes it. */
async function drawHere(section, path, devices) {
  const status = await pushStatus();
  const message = h('div', { 'aria-live': 'polite' });
  const change = (action) => async () => {
    try {
      await action();
      const fresh = await api(path);
      await drawHere(section, path, fresh.devices);
      const heading = section.querySelector('h2');
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    } catch {
      show(message, alertBox('That did not work. Check that you are online and try again.'));
    }
  };
  const elsewhere = devices - (status === 'on' ? 1 : 0);
  show(section,
    h('h2', { id: 'here-title' }, 'On this device'),
    status === 'home-screen'
      ? [
        h('p', {}, 'On an iPhone or iPad, reminders work only when Tidemark is on your Home Screen:'),
        h('ol', {},
          h('li', {}, 'Tap the Share button (the square with an arrow) at the bottom of Safari.'),
          h('li', {}, 'Choose "Add to Home Screen", then "Add".'),
          h('li', {}, 'Open Tidemark from your Home Screen, sign in, and turn reminders on here.')),
      ]
      : h('p', { class: status === 'on' ? 'saved' : null }, HERE_WORDS[status]),
    elsewhere > 0
      ? h('p', { class: 'hint' }, `They also go to ${elsewhere === 1 ? 'one other device' : `${elsewhere} other devices`} where you turned them on.`)
      : null,
    message,
    status === 'ask'
      ? h('div', { class: 'actions' }, button('Send reminders to this device', change(turnOn), { class: 'primary' }))
      : null,
    status === 'on'
      ? h('div', { class: 'actions' }, button('Stop reminders on this device', change(turnOff)))
      : null);
}
