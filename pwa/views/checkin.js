// One questionnaire, one question per screen; the finished check-in goes to the outbox first.

import { serverNow } from '../api.js';
import { bandOf, bandWords, daysSince, isoWithOffset, plural } from '../format.js';
import { go } from '../nav.js';
import * as outbox from '../outbox.js';
import { cachedGet, flushOutbox, instruments, state, vocabularies } from '../session.js';
import { cache } from '../store.js';
import { alertBox, announce, button, focusHeading, h, paragraphs, show } from '../ui.js';

const NOT_WATCHED = 'Your answers go to your care team, but nobody watches them around the clock. '
  + 'If you might act on these thoughts, or feel unsafe, call your emergency number now.';

export async function render(main, params) {
  const [scales, words] = await Promise.all([instruments(), vocabularies()]);
  const instrument = scales.find((i) => i.id === params.get('instrument') && i.rater === 'self');
  if (!instrument) {
    go('#/');
    return;
  }
  // One draft per patient and questionnaire: never continued by someone else on this phone.
  const key = `tidemark-draft-${state.user.patient_id}-${instrument.id}`;
  const saved = JSON.parse(sessionStorage.getItem(key) || 'null');
  const draft = saved || {
    step: 'context',
    context: params.get('context') || await suggestContext(),
    answers: instrument.items.map(() => null),
    difficulty: null,
    crisisSeen: false,
    entryId: crypto.randomUUID(), // fixed once: a second tap on Finish queues the same entry
  };
  // The contexts a patient may choose, in the words of their check-in.
  const contexts = words.contexts.filter((c) => c.patient_label);
  const flow = { main, instrument, draft, key, contexts, recall: await recallNotice(instrument) };
  document.title = `${instrument.name} check-in · Tidemark`;
  step(flow);
}

function save(flow) {
  sessionStorage.setItem(flow.key, JSON.stringify(flow.draft));
}

function step(flow) {
  save(flow);
  const { draft } = flow;
  if (draft.step === 'context') contextScreen(flow);
  else if (draft.step === 'crisis') crisisScreen(flow);
  else if (draft.step === 'difficulty') difficultyScreen(flow);
  else if (draft.step === 'done') return;
  else questionScreen(flow, draft.step);
  focusHeading(flow.main);
}

async function suggestContext() {
  const detail = await cache.get('patient');
  if (detail && (detail.due || []).some((d) => d.context === 'pre_session')) return 'pre_session';
  const sessions = await cache.get('sessions');
  const recent = ((sessions && sessions.items) || []).some((s) => {
    const since = daysSince(s.started_at);
    return since >= 0 && since <= 2;
  });
  return recent ? 'post_session' : 'routine';
}

async function recallNotice(instrument) {
  const days = Number((instrument.recall.match(/^P(\d+)D$/) || [])[1] || 0);
  if (!days) return null;
  const summary = await cache.get(`summary:${instrument.id}`);
  const queued = (await outbox.items(state.user.patient_id)).filter((i) => i.body.instrument === instrument.id);
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

function navigation(flow, backTo, nextLabel = 'Next') {
  return h('div', { class: 'actions split' },
    backTo === null
      ? h('a', { class: 'button', href: '#/' }, 'Cancel')
      : button('Back', () => { flow.draft.step = backTo; step(flow); }),
    h('button', { type: 'submit', class: 'primary' }, nextLabel));
}

function contextScreen(flow) {
  const { draft, instrument } = flow;
  form(flow, (element) => {
    const chosen = element.querySelector('input[name=context]:checked');
    if (!chosen) return 'Please choose one.';
    draft.context = chosen.value;
    draft.step = 0;
    step(flow);
    return null;
  },
  h('h1', {}, `${instrument.name} check-in`),
  flow.recall ? h('p', { class: 'notice' }, flow.recall) : null,
  h('fieldset', {},
    h('legend', {}, 'When are you filling this in?'),
    flow.contexts.map(({ value, patient_label: label }) => h('label', { class: 'option' },
      h('input', { type: 'radio', name: 'context', value, checked: draft.context === value }),
      h('span', {}, label)))),
  navigation(flow, null, 'Start'));
}

function questionScreen(flow, index) {
  const { draft, instrument } = flow;
  const item = instrument.items[index];
  const count = instrument.items.length;
  form(flow, (element) => {
    const chosen = element.querySelector(`input[name=${item.id}]:checked`);
    if (!chosen) return 'Please choose an answer.';
    draft.answers[index] = Number(chosen.value);
    const threshold = instrument.safety_thresholds[item.id];
    if (threshold !== undefined && draft.answers[index] >= threshold) {
      draft.step = 'crisis'; // at once, before anything is sent, online or not
      draft.crisisAfter = index;
    } else {
      draft.step = nextAfter(flow, index);
    }
    if (draft.step === 'finish') finish(flow);
    else step(flow);
    return null;
  },
  h('p', { class: 'progress-text' }, `Question ${index + 1} of ${count}`),
  h('progress', { max: count, value: index + 1, 'aria-hidden': 'true' }),
  instrument.stem ? h('p', { class: 'stem' }, instrument.stem) : null,
  h('fieldset', {},
    h('legend', { class: 'item' }, item.text),
    instrument.options.map((option) => h('label', { class: 'option' },
      h('input', {
        type: 'radio', name: item.id, value: option.value, checked: draft.answers[index] === option.value,
      }),
      h('span', {}, option.label)))),
  navigation(flow, index === 0 ? 'context' : index - 1));
}

function nextAfter(flow, index) {
  const { instrument, draft } = flow;
  if (index + 1 < instrument.items.length) return index + 1;
  if (instrument.difficulty && draft.answers.some((a) => a > 0)) return 'difficulty';
  return 'finish';
}

function crisisScreen(flow) {
  const text = (state.user && state.user.clinic && state.user.clinic.crisis_resources) || '';
  show(flow.main, h('section', { class: 'crisis stack', 'aria-labelledby': 'crisis-title' },
    h('h1', { id: 'crisis-title' }, 'Please reach out now'),
    h('p', { class: 'lead' }, 'You said you have had thoughts of being better off dead or of hurting yourself. You do not have to face this alone.'),
    paragraphs(text),
    h('p', { class: 'strong' }, NOT_WATCHED),
    button('Continue the check-in', () => {
      flow.draft.crisisSeen = true;
      flow.draft.step = nextAfter(flow, flow.draft.crisisAfter);
      if (flow.draft.step === 'finish') finish(flow);
      else step(flow);
    }, { class: 'primary' })));
  announce('Please reach out now. Crisis contacts are on the screen.');
}

function difficultyScreen(flow) {
  const { draft, instrument } = flow;
  const question = instrument.difficulty;
  form(flow, (element) => {
    const chosen = element.querySelector('input[name=difficulty]:checked');
    draft.difficulty = chosen ? Number(chosen.value) : null;
    finish(flow);
    return null;
  },
  h('p', { class: 'progress-text' }, 'One last question (you may skip it)'),
  h('fieldset', {},
    h('legend', { class: 'item' }, question.text),
    question.options.map((option) => h('label', { class: 'option' },
      h('input', {
        type: 'radio', name: 'difficulty', value: option.value, checked: draft.difficulty === option.value,
      }),
      h('span', {}, option.label)))),
  navigation(flow, instrument.items.length - 1, 'Finish'));
}

async function finish(flow) {
  const { draft, instrument } = flow;
  if (flow.finishing) return; // a double tap
  flow.finishing = true;
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
  const result = await flushOutbox();
  const stillHere = (await outbox.items(state.user.patient_id)).find((i) => i.id === body.id);
  if (!stillHere) {
    status.textContent = 'Sent to your care team.';
    cachedGet(`/patients/${state.user.patient_id}/summary?instrument=${instrument.id}`, `summary:${instrument.id}`).catch(() => {});
  } else if (stillHere.state === 'failed') {
    status.textContent = `Not sent: ${stillHere.error}`;
    status.setAttribute('role', 'alert');
  } else if (result && result.needsSignIn) {
    status.textContent = 'Saved on this phone. Sign in again to send it.';
  } else {
    status.textContent = 'Saved on this phone. It will be sent when you are online.';
  }
}
