// "How was your session?": the patient's after-session report. One side effect per screen
// (0 none to 3 severe, big targets), then an optional note; queued in the outbox like a
// check-in, so an answer is never lost offline. Side effects and levels are the server's words.

import { serverNow } from '../api.js';
import { dialable } from '../crisis.js';
import { isoWithOffset, sessionLabel } from '../format.js';
import { go } from '../nav.js';
import * as outbox from '../outbox.js';
import {
  cachedGet, clinic, flushOutbox, sayWhereQueued, state, vocabularies,
} from '../session.js';
import { alertBox, button, focusHeading, h, show } from '../ui.js';

const NOTE_MAX = 2000;

export async function render(main, params) {
  const sessionId = params.get('session');
  const words = await vocabularies();
  if (!sessionId) {
    go('#/');
    return;
  }
  const sessions = await cachedGet(`/patients/${state.user.patient_id}/sessions`, 'sessions');
  const session = ((sessions.data && sessions.data.items) || []).find((s) => s.id === sessionId) || null;
  document.title = 'How was your session? · Tidemark';
  // One draft per patient and session: a reload continues it, with the same id.
  const key = `tidemark-draft-${state.user.patient_id}-report-${sessionId}`;
  const draft = JSON.parse(sessionStorage.getItem(key) || 'null') || {
    id: crypto.randomUUID(), step: 0, answers: {}, note: '',
  };
  const flow = { main, words, session, sessionId, draft, key };
  step(flow);
}

function step(flow) {
  const { draft } = flow;
  if (draft.step !== 'done') sessionStorage.setItem(flow.key, JSON.stringify(draft));
  if (draft.step === 'note') noteScreen(flow);
  else if (draft.step !== 'done') questionScreen(flow, draft.step);
  focusHeading(flow.main);
}

function form(flow, onNext, ...content) {
  const error = h('div');
  const element = h('form', { class: 'stack question', novalidate: true }, error, ...content);
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    const problem = onNext(element);
    if (problem) show(error, alertBox(problem));
  });
  show(flow.main, element);
  return element;
}

function navigation(flow, back, nextLabel = 'Next') {
  return h('div', { class: 'actions split' },
    back === null
      ? h('a', { class: 'button', href: '#/' }, 'Cancel')
      : button('Back', () => { flow.draft.step = back; step(flow); }),
    h('button', { type: 'submit', class: 'primary' }, nextLabel));
}

function questionScreen(flow, index) {
  const { draft, words } = flow;
  const effects = words.side_effects;
  const effect = effects[index];
  form(flow, (element) => {
    const chosen = element.querySelector(`input[name=${effect.value}]:checked`);
    if (!chosen) return 'Please choose an answer.';
    draft.answers[effect.value] = Number(chosen.value);
    draft.step = index + 1 < effects.length ? index + 1 : 'note';
    step(flow);
    return null;
  },
  index === 0 ? h('h1', {}, 'How was your session?') : null,
  index === 0 && flow.session ? h('p', { class: 'hint' }, sessionLabel(flow.session, words.treatments)) : null,
  h('p', { class: 'progress-text' }, `Question ${index + 1} of ${effects.length}`),
  h('progress', { max: effects.length + 1, value: index + 1, 'aria-hidden': 'true' }),
  h('fieldset', {},
    h('legend', { class: 'item' }, effect.question),
    words.side_effect_levels.map((level) => h('label', { class: 'option' },
      h('input', {
        type: 'radio', name: effect.value, value: level.value, checked: draft.answers[effect.value] === level.value,
      }),
      h('span', {}, level.label)))),
  navigation(flow, index === 0 ? null : index - 1));
}

function noteScreen(flow) {
  const { draft, words } = flow;
  const area = h('textarea', { id: 'report-note', name: 'note', rows: 4, maxlength: NOTE_MAX }, draft.note);
  area.addEventListener('input', () => {
    draft.note = area.value;
    sessionStorage.setItem(flow.key, JSON.stringify(draft));
  });
  form(flow, () => {
    draft.note = area.value;
    finish(flow);
    return null;
  },
  h('p', { class: 'progress-text' }, 'Last step (you may skip it)'),
  h('progress', { max: words.side_effects.length + 1, value: words.side_effects.length + 1, 'aria-hidden': 'true' }),
  h('h1', {}, 'Anything else to tell your care team?'),
  h('label', { for: 'report-note' }, 'A note (optional)'),
  area,
  navigation(flow, words.side_effects.length - 1, 'Finish'));
}

async function finish(flow) {
  const { draft, words } = flow;
  if (flow.finishing) return; // a double tap
  flow.finishing = true;
  const note = draft.note.trim();
  const body = {
    id: draft.id,
    taken_at: isoWithOffset(serverNow()),
    side_effects: Object.fromEntries(words.side_effects.map((e) => [e.value, draft.answers[e.value]])),
    ...(note ? { note } : {}),
  };
  // On the phone first: nothing is lost now.
  await outbox.enqueue(body, state.user.patient_id, 'report', { sessionId: flow.sessionId });
  sessionStorage.removeItem(flow.key);
  history.replaceState(null, '', '#/done'); // a reload from here opens Home, not a new report
  draft.step = 'done';
  const severe = words.side_effects.filter((e) => body.side_effects[e.value] === 3);
  const phone = clinic().crisis && clinic().crisis.clinic_phone;
  const status = h('p', { role: 'status', class: 'saved' }, 'Sending…');
  show(flow.main, h('section', { class: 'stack' },
    h('h1', {}, 'Thank you'),
    h('p', {}, 'Your care team will see how your session went.'),
    status,
    severe.length ? h('div', { class: 'notice' },
      h('p', {}, `You said ${severe.map((e) => e.label.toLowerCase()).join(' and ')} ${severe.length > 1 ? 'were' : 'was'} severe. If it is still bad, or you are worried, call your clinic.`),
      phone ? h('a', { class: 'button dial', href: `tel:${dialable(phone)}` }, 'Call your clinic: ', h('span', { class: 'number' }, phone)) : null)
      : null,
    h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/' }, 'Home'))));
  focusHeading(flow.main);
  const result = await flushOutbox();
  if (await sayWhereQueued(status, body.id, result)) {
    cachedGet(`/patients/${state.user.patient_id}/sessions`, 'sessions').catch(() => {});
  }
}
