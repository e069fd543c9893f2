// One questionnaire, one question per screen: choosing an answer moves on (Next only where an
// answer is already chosen, as after Back); the finished check-in goes to the outbox first.
// A positive safety answer goes at once, before the check-in is finished: a safety signal,
// queued once per check-in and item (its id is kept in the draft), then the crisis screen.

import { api, serverNow } from '../api.js';
import { crisisResources, NOT_WATCHED } from '../crisis.js';
import {
  bandOf, bandWords, daysSince, isoWithOffset, labelOf, plural,
} from '../format.js';
import { currentRoute, go } from '../nav.js';
import * as outbox from '../outbox.js';
import {
  cachedGet, clinic, flushOutbox, instruments, rememberSafetyAnswer, sayWhereQueued, state,
  vocabularies,
} from '../session.js';
import { cache } from '../store.js';
import { alertBox, announce, button, focusHeading, h, show } from '../ui.js';

// At most this long the crisis screen waits for the signal to be stored on the phone.
const STORE_WAIT_MS = 500;
// A chosen answer shows as chosen this long before the next question: longer than a double
// tap, so that a second tap lands on the same question, never on the next one.
const ADVANCE_MS = 300;
const HOUR = 3600000;
// A session that started this long ago may not be over yet (or was late): ask.
const JUST_STARTED_HOURS = 1;
// Up to this long after a session started, a check-in is "after the session".
const AFTER_HOURS = 24;

export async function render(main, params) {
  const [scales, words] = await Promise.all([instruments(), vocabularies()]);
  const instrument = scales.find((i) => i.id === params.get('instrument') && i.rater === 'self');
  if (!instrument) {
    go('#/');
    return;
  }
  if (instrument.kind === 'quick_rating') { // one screen of its own, never "a score"
    go(`#/rating${params.get('context') ? `?context=${params.get('context')}` : ''}`);
    return;
  }
  // One draft per patient and questionnaire: never continued by someone else on this phone.
  const key = `tidemark-draft-${state.user.patient_id}-${instrument.id}`;
  const saved = JSON.parse(sessionStorage.getItem(key) || 'null');
  // Asked only when the schedule and the sessions leave it open.
  const context = params.get('context') || await inferContext();
  const draft = saved || {
    step: context ? 0 : 'context',
    context,
    answers: instrument.items.map(() => null),
    difficulty: null,
    crisisSeen: false,
    entryId: crypto.randomUUID(), // fixed once: a second tap on Finish queues the same entry
    signals: {}, // item id → {body, queued}: one safety signal per check-in and item, ever
  };
  draft.signals = draft.signals || {}; // a draft saved by an older version of the app
  // The contexts a patient may choose, in the words of their check-in.
  const contexts = words.contexts.filter((c) => c.patient_label);
  const flow = { main, instrument, draft, key, contexts, recall: await recallNotice(instrument) };
  document.title = `${instrument.name} check-in · Tidemark`;
  // A reloaded draft: every positive safety answer has its signal, stored on the phone (the
  // page may have been closed before it was, or the draft saved by an older version).
  instrument.items.forEach((item, index) => {
    const threshold = instrument.safety_thresholds[item.id];
    if (threshold !== undefined && draft.answers[index] !== null && draft.answers[index] >= threshold) {
      signal(flow, index);
    }
  });
  for (const [itemId, kept] of Object.entries(draft.signals)) {
    if (!kept.queued && !kept.sent) store(flow, itemId);
  }
  step(flow);
}

function save(flow) {
  if (flow.draft.step === 'done') return; // finished: the draft is gone for good
  sessionStorage.setItem(flow.key, JSON.stringify(flow.draft));
}

function step(flow) {
  save(flow);
  if (flow.leaving) flow.leaving();
  flow.leaving = null;
  const { draft } = flow;
  if (draft.step === 'context') {
    draft.asked = true; // Back from the first question returns here
    contextScreen(flow);
  }
  else if (draft.step === 'crisis') crisisScreen(flow);
  else if (draft.step === 'difficulty') difficultyScreen(flow);
  else if (draft.step === 'done') return;
  else questionScreen(flow, draft.step);
  focusHeading(flow.main);
}

/** When this check-in is filled in, from the schedule and the sessions kept on this phone:
 * before a session planned later today, after one that started in the last 24 hours, else
 * a regular check-in; null (ask) for both at once, or a session that has only just started. */
async function inferContext() {
  const [detail, sessions] = await Promise.all([cache.get('patient'), cache.get('sessions')]);
  const now = serverNow();
  const hoursSince = (s) => (now - new Date(s.started_at)) / HOUR;
  const held = ((sessions && sessions.items) || []).filter((s) => s.status !== 'cancelled');
  const before = ((detail && detail.due) || []).some((d) => d.context === 'pre_session')
    || held.some((s) => hoursSince(s) < 0 && new Date(s.started_at).toDateString() === now.toDateString());
  const after = held.some((s) => hoursSince(s) >= JUST_STARTED_HOURS && hoursSince(s) <= AFTER_HOURS);
  const starting = held.some((s) => hoursSince(s) >= 0 && hoursSince(s) < JUST_STARTED_HOURS);
  if (starting || (before && after)) return null;
  if (before) return 'pre_session';
  return after ? 'post_session' : 'routine';
}

async function recallNotice(instrument) {
  const days = Number((instrument.recall.match(/^P(\d+)D$/) || [])[1] || 0);
  if (!days) return null;
  const summary = await cache.get(`summary:${instrument.id}`);
  const queued = (await outbox.items(state.user.patient_id))
    .filter((i) => i.kind === 'entry' && i.body.instrument === instrument.id);
  const times = [
    ...(summary && summary.latest ? [summary.latest.taken_at] : []),
    ...queued.map((i) => i.body.taken_at),
  ];
  if (!times.length) return null;
  const since = Math.min(...times.map((t) => daysSince(t)));
  if (since >= days) return null;
  const ago = since < 1 ? 'less than a day' : plural(Math.floor(since), 'day', 'days');
  return `Your last ${instrument.name} was ${ago} ago. The questions still ask about the last `
    + `${days} days, so this one overlaps with it. That is fine: answer for the last ${days} days.`;
}

function form(flow, onNext, ...content) {
  const error = h('div');
  const element = h('form', { class: 'stack question', novalidate: true }, error, ...content);
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    const problem = onNext(element);
    if (problem) {
      show(error, alertBox(problem));
    }
  });
  show(flow.main, element);
  return element;
}

/** Back (Cancel on the first screen), and Next: shown once an answer is chosen (after Back,
 * or moved to with the arrow keys), for a choice that does not move on by itself. */
function navigation(flow, backTo, answered, nextLabel = 'Next') {
  return h('div', { class: 'actions split' },
    backTo === null
      ? h('a', { class: 'button', href: '#/' }, 'Cancel')
      : button('Back', () => { flow.draft.step = backTo; step(flow); }),
    h('button', { type: 'submit', class: 'primary', hidden: !answered }, nextLabel));
}

/** Radio options where a tap, Space or Enter chooses and moves on after a moment; the arrow
 * keys only move the choice (then Enter or Next goes on). */
function choices(flow, element, name, options, chosen, keep) {
  const screen = {};
  flow.screen = screen;
  let arrowing = false;
  let timer = null;
  const moveOn = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (flow.screen === screen && element.isConnected) element.requestSubmit();
    }, ADVANCE_MS);
  };
  const group = h('div', {
    onkeydown: (event) => {
      arrowing = event.key.startsWith('Arrow');
      if (event.key === 'Enter' && event.target.checked) {
        event.preventDefault();
        moveOn();
      }
    },
    onkeyup: () => { arrowing = false; },
    onchange: (event) => {
      element.querySelector('button[type=submit]').hidden = false;
      if (keep) keep(Number(event.target.value)); // kept at once: leaving now loses nothing
    },
    onclick: (event) => {
      if (event.target.type === 'radio' && !arrowing) moveOn();
    },
  }, options.map((option) => h('label', { class: 'option' },
    h('input', { type: 'radio', name, value: option.value, checked: chosen === option.value }),
    h('span', {}, option.label))));
  return group;
}

function contextScreen(flow) {
  const { draft, instrument } = flow;
  const element = form(flow, (el) => {
    const chosen = el.querySelector('input[name=context]:checked');
    if (!chosen) return 'Please choose one.';
    draft.context = chosen.value;
    draft.step = 0;
    step(flow);
    return null;
  });
  element.append(...[
    h('h1', {}, `${instrument.name} check-in`),
    flow.recall ? h('p', { class: 'notice' }, flow.recall) : null,
    h('fieldset', {},
      h('legend', {}, 'When are you filling this in?'),
      choices(flow, element, 'context',
        flow.contexts.map((c) => ({ value: c.value, label: c.patient_label })), draft.context)),
    navigation(flow, null, Boolean(draft.context), 'Start')].filter(Boolean));
}

function questionScreen(flow, index) {
  const { draft, instrument } = flow;
  const item = instrument.items[index];
  const count = instrument.items.length;
  const element = form(flow, (el) => {
    const chosen = el.querySelector(`input[name=${item.id}]:checked`);
    if (!chosen) return 'Please choose an answer.';
    draft.answers[index] = Number(chosen.value);
    const threshold = instrument.safety_thresholds[item.id];
    if (threshold !== undefined && draft.answers[index] >= threshold) {
      draft.step = 'crisis'; // at once, online or not
      draft.crisisAfter = index;
      // The signal is on the phone (or on its way) before the crisis screen shows, so that
      // closing the app on that screen still tells the clinic; an outbox that is slow to
      // store holds the crisis screen back no longer than a moment.
      if (flow.raising) return null; // a second tap while it is stored
      flow.raising = true;
      const stored = signal(flow, index);
      const moment = new Promise((resolve) => { setTimeout(resolve, STORE_WAIT_MS); });
      Promise.race([stored, moment]).then(() => {
        flow.raising = false;
        if (draft.step === 'crisis') step(flow);
      });
      return null;
    }
    draft.step = nextAfter(flow, index);
    if (draft.step === 'finish') finish(flow);
    else step(flow);
    return null;
  });
  // On the first question: what was inferred (or chosen), and a way to change it.
  const when = index === 0 && draft.context ? h('p', { class: 'when' },
    `${labelOf(flow.contexts, draft.context, 'patient_label')}. `,
    button('Change', () => { draft.step = 'context'; step(flow); }, { class: 'link' })) : null;
  element.append(...[
    h('p', { class: 'eyebrow' }, `${instrument.name} check-in`),
    when,
    index === 0 && flow.recall ? h('p', { class: 'notice' }, flow.recall) : null,
    h('p', { class: 'progress-text' }, `Question ${index + 1} of ${count}`),
    h('progress', { max: count, value: index + 1, 'aria-hidden': 'true' }),
    instrument.stem ? h('p', { class: 'stem' }, instrument.stem) : null,
    h('fieldset', {},
      h('legend', { class: 'item' }, item.text),
      choices(flow, element, item.id, instrument.options, draft.answers[index], (value) => {
        draft.answers[index] = value;
        save(flow);
      })),
    navigation(flow, index === 0 ? (draft.asked ? 'context' : null) : index - 1, draft.answers[index] !== null),
  ].filter(Boolean));
}

function nextAfter(flow, index) {
  const { instrument, draft } = flow;
  if (index + 1 < instrument.items.length) return index + 1;
  if (instrument.difficulty && draft.answers.some((a) => a > 0)) return 'difficulty';
  return 'finish';
}

/** The safety signal of the answer to item `index`: made once per check-in and item (a changed
 * answer, Back and forth, or a reload never make another), stored in the outbox, sent at once.
 * Resolves once it is stored on the phone. */
function signal(flow, index) {
  const { draft, instrument } = flow;
  const item = instrument.items[index];
  if (!draft.signals[item.id]) {
    draft.signals[item.id] = {
      body: {
        id: crypto.randomUUID(),
        checkin_id: draft.entryId, // the finished entry joins the flag this signal opens
        instrument: instrument.id,
        item: item.id,
        answer: draft.answers[index],
        answered_at: isoWithOffset(serverNow()),
      },
      queued: false,
    };
    save(flow);
    rememberSafetyAnswer(); // Home shows the help card for the next 24 hours
  }
  const kept = draft.signals[item.id];
  return kept.queued || kept.sent ? Promise.resolve() : store(flow, item.id);
}

/** Store the item's signal in the outbox and send it; once, however often it is asked for. */
function store(flow, itemId) {
  flow.storing = flow.storing || {};
  if (!flow.storing[itemId]) flow.storing[itemId] = queueSignal(flow, flow.draft.signals[itemId]);
  return flow.storing[itemId];
}

async function queueSignal(flow, queued) {
  const patientId = state.user.patient_id;
  // Sent at once, before it is even stored: the patient may close the app the moment the
  // crisis screen shows, and a request already started with `keepalive` outlives the page. The
  // outbox keeps a copy until the server has it (a replay gets the same flag, never a second).
  const direct = api(`/patients/${patientId}/safety-signals`, { method: 'POST', body: queued.body, keepalive: true })
    .then(() => true, () => false);
  let stored = false;
  try {
    await outbox.enqueue(queued.body, patientId, 'signal');
    stored = true;
    queued.queued = true;
    save(flow);
  } catch {
    // This phone cannot store it (storage full, blocked): the direct send is all there is.
  }
  flow.sending = direct
    .then(async (sent) => {
      if (sent) {
        queued.sent = true;
        save(flow);
        if (stored) await outbox.discard(queued.body.id); // the server has it
      } else if (stored) {
        await flushOutbox().catch(() => null); // offline or refused: the outbox's rules apply
      }
    })
    .finally(() => { flow.sending = null; });
}

/** Where the signal of the crisis screen is: 'sent', 'sending', 'waiting' or {failed: why}. */
async function signalState(flow, queued) {
  if (queued.sent) return 'sent';
  const inOutbox = (await outbox.items(state.user.patient_id)).find((i) => i.id === queued.body.id);
  if (!queued.queued || inOutbox) {
    if (inOutbox && inOutbox.state === 'failed') return { failed: inOutbox.error };
    return flow.sending && navigator.onLine ? 'sending' : 'waiting';
  }
  return 'sent';
}

const SIGNAL_WORDS = {
  sending: 'Sending your answer to your care team…',
  sent: 'Your answer has been sent to your care team.',
  waiting: 'Your answer is saved on this phone and will be sent to your care team as soon as your phone is online.',
};

function crisisScreen(flow) {
  const item = flow.instrument.items[flow.draft.crisisAfter];
  const queued = item && flow.draft.signals[item.id];
  const shared = h('p', { class: 'strong', role: 'status' },
    navigator.onLine ? SIGNAL_WORDS.sending : SIGNAL_WORDS.waiting);
  // Until the patient moves on (the next step, another screen, signed out).
  const here = () => Boolean(state.user) && currentRoute().name === 'checkin' && flow.main.contains(shared);
  const refresh = async () => {
    if (!queued) return;
    if (!here()) {
      stop();
      return;
    }
    const where = await signalState(flow, queued);
    if (!here()) return;
    shared.textContent = typeof where === 'string'
      ? SIGNAL_WORDS[where]
      : `Your answer could not be sent to your care team: ${where.failed} Please call them, or one of the numbers below.`;
  };
  const stop = outbox.onChange(refresh);
  flow.leaving = stop;
  show(flow.main, h('section', { class: 'crisis stack', 'aria-labelledby': 'crisis-title' },
    h('h1', { id: 'crisis-title' }, 'Please reach out now'),
    h('p', { class: 'lead' }, 'You said you have had thoughts of being better off dead or of hurting yourself. You do not have to face this alone.'),
    shared,
    crisisResources(clinic()), // the numbers high up, where a phone shows them without scrolling
    h('p', {}, NOT_WATCHED),
    button('Continue the check-in', () => {
      flow.draft.crisisSeen = true;
      flow.draft.step = nextAfter(flow, flow.draft.crisisAfter);
      if (flow.draft.step === 'finish') finish(flow);
      else step(flow);
    }, { class: 'primary' })));
  // Only once the status is on screen: refresh() stops for a status that is not (yet) shown.
  const sending = flow.sending;
  if (sending) sending.then(refresh);
  else refresh();
  announce('Please reach out now. Crisis contacts are on the screen.');
}

function difficultyScreen(flow) {
  const { draft, instrument } = flow;
  const question = instrument.difficulty;
  const element = form(flow, (el) => {
    const chosen = el.querySelector('input[name=difficulty]:checked');
    draft.difficulty = chosen ? Number(chosen.value) : null;
    finish(flow);
    return null;
  });
  element.append(...[
    h('p', { class: 'progress-text' }, 'One last question (you may skip it)'),
    h('fieldset', {},
      h('legend', { class: 'item' }, question.text),
      choices(flow, element, 'difficulty', question.options, draft.difficulty)),
    navigation(flow, instrument.items.length - 1, true, 'Finish')].filter(Boolean));
}

async function finish(flow) {
  const { draft, instrument } = flow;
  if (flow.finishing) return; // a double tap
  flow.finishing = true;
  if (flow.leaving) flow.leaving();
  const body = {
    id: draft.entryId || crypto.randomUUID(),
    instrument: instrument.id,
    answers: draft.answers,
    taken_at: isoWithOffset(serverNow()),
    context: draft.context,
  };
  if (instrument.difficulty && draft.difficulty !== null) body.difficulty = draft.difficulty;
  await outbox.enqueue(body, state.user.patient_id); // on the phone first: nothing is lost now
  sessionStorage.removeItem(flow.key);
  history.replaceState(null, '', '#/done'); // a reload from here opens Home, not a new check-in
  draft.step = 'done';
  const total = draft.answers.reduce((sum, a) => sum + a, 0);
  const band = bandOf(instrument, total);
  const status = h('p', { role: 'status', class: 'saved' }, 'Sending…');
  show(flow.main, h('section', { class: 'stack' },
    h('h1', {}, 'Thank you'),
    h('p', { class: 'score' },
      `Your ${instrument.name} score is `, h('span', { class: 'big' }, String(total)),
      ` out of ${instrument.max}: ${bandWords(band)}.`),
    status,
    draft.crisisSeen ? h('p', { class: 'strong' }, NOT_WATCHED) : null,
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: '#/history' }, 'See your history'),
      h('a', { class: 'button', href: '#/' }, 'Home'))));
  focusHeading(flow.main);
  // Where the check-in is, said again whenever the outbox moves (sent after reconnecting).
  let result = null;
  const where = async () => {
    if (!status.isConnected) {
      stop();
      return;
    }
    if (await sayWhereQueued(status, body.id, result)) {
      stop();
      cachedGet(`/patients/${state.user.patient_id}/summary?instrument=${instrument.id}`, `summary:${instrument.id}`).catch(() => {});
    }
  };
  const stop = outbox.onChange(() => { where(); });
  result = await flushOutbox();
  await where();
  // Reminders are offered here, after a check-in, never on a first visit (nor offline: the
  // subscription needs the server).
  if (!navigator.onLine) return;
  // Loaded only here, online: the patient's offline app never needs it.
  const offer = await import('../push.js')
    .then(({ reminderOffer }) => reminderOffer(state.user.patient_id))
    .catch(() => null);
  if (offer && flow.main.contains(status)) status.closest('section').append(offer);
}
