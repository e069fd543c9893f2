// "Get help now": the clinic's crisis numbers, reachable from every patient screen, offline too
// (this view is precached; the numbers come with the signed-in user kept on the phone).

import { api } from '../api.js';
import { crisisResources, NOT_WATCHED } from '../crisis.js';
import { clinic, keepClinic, state } from '../session.js';
import { focusHeading, h, show } from '../ui.js';

export async function render(main) {
  document.title = 'Get help now · Tidemark';
  const resources = h('div', {}, crisisResources(clinic()));
  const unfinished = unfinishedCheckIn();
  show(main, h('section', { class: 'crisis stack', 'aria-labelledby': 'help-title' },
    h('h1', { id: 'help-title' }, 'Get help now'),
    h('p', { class: 'lead' }, 'If you are thinking about ending your life or hurting yourself, or you feel unsafe, please reach out now. You do not have to face this alone.'),
    resources,
    h('p', {}, NOT_WATCHED),
    h('div', { class: 'actions' },
      unfinished ? h('a', { class: 'button', href: `#/checkin?instrument=${unfinished}` }, 'Back to your check-in') : null,
      h('a', { class: 'button', href: '#/' }, 'Home'))));
  focusHeading(main);
  refresh(resources);
}

/** Online, the clinic's newest numbers (kept for offline); shown only if they changed. */
async function refresh(resources) {
  const before = JSON.stringify(clinic().crisis || null);
  let fresh;
  try {
    fresh = await api('/clinic');
  } catch {
    return; // offline, or the server busy: the numbers kept on the phone stand
  }
  if (!fresh || fresh.crisis === undefined) return;
  await keepClinic({ name: fresh.name, crisis: fresh.crisis });
  if (JSON.stringify(clinic().crisis || null) !== before && resources.isConnected) {
    show(resources, crisisResources(clinic()));
  }
}

/** The questionnaire of a check-in this patient left half done in this tab, if any. */
function unfinishedCheckIn() {
  const prefix = `tidemark-draft-${state.user.patient_id}-`;
  const key = Object.keys(sessionStorage).find((k) => k.startsWith(prefix));
  return key ? key.slice(prefix.length) : null;
}
