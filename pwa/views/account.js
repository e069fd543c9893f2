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
    passwordSection(drawDevices),
    devices,
    h('p', {}, 'To sign out of this phone, go to ', h('a', { href: '#/data' }, 'My data'), '.'));
  focusHeading(main);
}
