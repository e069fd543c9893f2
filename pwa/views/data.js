import { errorMessage } from '../api.js';
import { plural } from '../format.js';
import * as outbox from '../outbox.js';
import { signOut, state } from '../session.js';
import { alertBox, button, focusHeading, h, show } from '../ui.js';

export async function render(main) {
  document.title = 'My data · Tidemark';
  const message = h('div', { 'aria-live': 'polite' });
  const waiting = await outbox.items(state.user.patient_id);
  const unsent = waiting.length;
  // A safety answer sent ahead of its check-in is not a check-in: say what it is.
  const checkIns = waiting.filter((i) => i.kind === 'entry').length;
  const reports = waiting.filter((i) => i.kind === 'report').length;
  const safetyAnswers = unsent - checkIns - reports;
  const unsentWords = [
    checkIns ? plural(checkIns, 'check-in', 'check-ins') : null,
    reports ? plural(reports, 'after-session report', 'after-session reports') : null,
    safetyAnswers ? plural(safetyAnswers, 'answer to a safety question', 'answers to safety questions') : null,
  ].filter(Boolean).join(' and ');
  const signOutArea = h('div', { class: 'stack' });

  const download = async () => {
    show(message, h('p', {}, 'Preparing your download…'));
    try {
      const response = await fetch(`/api/v1/patients/${state.user.patient_id}/export`, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`The server answered ${response.status}.`);
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `tidemark-my-data-${new Date().toISOString().slice(0, 10)}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      show(message, h('p', { role: 'status' }, 'Your data has been downloaded.'));
    } catch (error) {
      show(message, alertBox(navigator.onLine ? errorMessage(error) : 'You are offline. Download your data when you are connected.'));
    }
  };

  const trySignOut = async () => {
    try {
      await signOut();
    } catch (error) {
      show(message, alertBox(navigator.onLine
        ? `Could not sign out: ${errorMessage(error)} Try again.`
        : 'You are offline. Connect to sign out, so that your account is closed on this phone.'));
      message.querySelector('[role=alert]').setAttribute('tabindex', '-1');
      message.querySelector('[role=alert]').focus();
    }
  };

  const confirmSignOut = () => {
    show(signOutArea,
      h('p', { class: 'alert', role: 'alert', tabindex: '-1' },
        `${unsentWords} ${unsent === 1 ? 'has' : 'have'} not been sent yet. Signing out removes ${unsent === 1 ? 'it' : 'them'} from this phone.`),
      h('div', { class: 'actions' },
        button('Sign out anyway', trySignOut, { class: 'danger' }),
        button('Stay signed in', () => render(main))));
    signOutArea.querySelector('[role=alert]').focus();
  };

  show(signOutArea,
    button('Sign out', () => (unsent ? confirmSignOut() : trySignOut())),
    h('p', { class: 'hint' }, 'Signing out removes your data from this phone.'));

  show(main,
    h('h1', {}, 'My data'),
    h('p', {}, `Signed in as ${state.user.email}.`),
    h('section', { class: 'card', 'aria-labelledby': 'download-title' },
      h('h2', { id: 'download-title' }, 'Download'),
      h('p', {}, 'A file with every check-in, session and note about you (JSON).'),
      button('Download my data', download, { class: 'primary' }),
      message),
    h('section', { class: 'card', 'aria-labelledby': 'passkeys-title' },
      h('h2', { id: 'passkeys-title' }, 'Passkeys'),
      h('p', {}, 'Sign in with your phone\'s screen lock instead of your password.'),
      h('a', { href: '#/passkeys' }, 'Your passkeys')),
    h('section', { class: 'card', 'aria-labelledby': 'signout-title' },
      h('h2', { id: 'signout-title' }, 'Sign out'),
      signOutArea),
  );
  focusHeading(main);
}
