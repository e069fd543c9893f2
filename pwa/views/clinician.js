import { signOut, state } from '../app.js';
import { button, focusHeading, h, show } from '../ui.js';

export async function render(main) {
  document.title = 'Clinic · Tidemark';
  show(main,
    h('h1', {}, state.user.clinic.name),
    h('p', {}, `Signed in as ${state.user.email}.`),
    h('p', {}, 'The clinician workspace is not in this version yet; use the API (see /api/v1/openapi.json).'),
    button('Sign out', () => signOut()));
  focusHeading(main);
}
