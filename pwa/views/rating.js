// The quick rating (mood_now): one question about right now, 0 to 10, before a session and
// again a few hours after it. One screen with eleven big targets; the answer goes to the
// outbox first, like any check-in. It is a quick rating, never a score of depression.

import { serverNow } from '../api.js';
import { isoWithOffset, labelOf } from '../format.js';
import { go } from '../nav.js';
import * as outbox from '../outbox.js';
import {
  cachedGet, flushOutbox, instruments, sayWhereQueued, state, vocabularies,
} from '../session.js';
import { alertBox, focusHeading, h, show } from '../ui.js';

const CONTEXTS = ['pre_session', 'post_session'];
const WHEN = { pre_session: 'Before your session', post_session: 'After your session' };
const CHOICE = { pre_session: 'Before my session', post_session: 'After my session' };

export async function render(main, params) {
  const [scales, words] = await Promise.all([instruments(), vocabularies()]);
  const rating = scales.find((i) => i.kind === 'quick_rating');
  if (!rating) {
    go('#/');
    return;
  }
  document.title = 'Quick rating · Tidemark';
  // One draft per patient: a reload keeps the same id, so a second tap never sends two.
  const key = `tidemark-draft-${state.user.patient_id}-${rating.id}`;
  const given = CONTEXTS.includes(params.get('context')) ? params.get('context') : null;
  const saved = JSON.parse(sessionStorage.getItem(key) || 'null');
  const draft = saved && (!given || saved.context === given)
    ? saved
    : { id: crypto.randomUUID(), context: given, answer: null };
  const keep = () => sessionStorage.setItem(key, JSON.stringify(draft));
  keep();
  const [item] = rating.items;
  const low = rating.options[0];
  const high = rating.options[rating.options.length - 1];
  const error = h('div');
  const form = h('form', { class: 'stack question', novalidate: true },
    h('h1', {}, 'Quick rating'),
    given ? h('p', { class: 'lead' }, WHEN[given]) : h('fieldset', { class: 'when' },
      h('legend', {}, 'When is this?'),
      CONTEXTS.map((value) => h('label', { class: 'option' },
        h('input', { type: 'radio', name: 'context', value, checked: draft.context === value }),
        h('span', {}, CHOICE[value])))),
    error,
    h('fieldset', { class: 'rating' },
      h('legend', { class: 'item' }, item.text),
      // The low end above the grid's start, the high end below its end, beside their numbers.
      h('p', { class: 'end low', 'aria-hidden': 'true' }, `${low.value} = ${low.label}`),
      h('div', { class: 'rating-grid' }, rating.options.map((option) => h('label', { class: 'rating-option' },
        h('input', {
          type: 'radio', name: 'answer', value: option.value, checked: draft.answer === option.value,
        }),
        h('span', { class: 'number' }, String(option.value)),
        option.label === String(option.value) ? null : h('span', { class: 'visually-hidden' }, `, ${option.label}`)))),
      h('p', { class: 'end high', 'aria-hidden': 'true' }, `${high.value} = ${high.label}`)),
    h('p', { class: 'hint' }, 'Just how you feel at this moment. There are no right or wrong answers.'),
    h('div', { class: 'actions split' },
      h('a', { class: 'button', href: '#/' }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, 'Save')));
  form.addEventListener('change', () => {
    const chosen = form.querySelector('input[name=answer]:checked');
    const when = form.querySelector('input[name=context]:checked');
    if (chosen) draft.answer = Number(chosen.value);
    if (when) draft.context = when.value;
    keep();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const problems = [
      draft.context ? null : 'Please choose whether this is before or after your session.',
      draft.answer === null ? 'Please choose a number from 0 to 10.' : null,
    ].filter(Boolean);
    if (problems.length) {
      show(error, alertBox(problems.join(' ')));
      return;
    }
    save(main, rating, draft, key, words);
  });
  show(main, form);
  focusHeading(main);
}

async function save(main, rating, draft, key, words) {
  const body = {
    id: draft.id,
    instrument: rating.id,
    answers: [draft.answer],
    taken_at: isoWithOffset(serverNow()),
    context: draft.context, // the server links it to the session by time
  };
  await outbox.enqueue(body, state.user.patient_id); // on the phone first: nothing is lost now
  sessionStorage.removeItem(key);
  history.replaceState(null, '', '#/done'); // a reload from here opens Home, not a new rating
  const status = h('p', { role: 'status', class: 'saved' }, 'Sending…');
  show(main, h('section', { class: 'stack' },
    h('h1', {}, 'Thank you'),
    h('p', { class: 'score' },
      `Your quick rating ${labelOf(words.contexts, draft.context).toLowerCase()}: `,
      h('span', { class: 'big' }, String(draft.answer)), ` out of ${rating.max}.`),
    status,
    draft.context === 'pre_session'
      ? h('p', {}, 'A few hours after your session, the app will ask again, so you can see the difference.')
      : null,
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: `#/history?instrument=${rating.id}` }, 'See your ratings'),
      h('a', { class: 'button', href: '#/' }, 'Home'))));
  focusHeading(main);
  const result = await flushOutbox();
  if (await sayWhereQueued(status, body.id, result)) {
    cachedGet(`/patients/${state.user.patient_id}/summary?instrument=${rating.id}`, `summary:${rating.id}`).catch(() => {});
  }
}
