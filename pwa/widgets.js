// Shared pieces of the clinician's screens: labelled fields, forms that call the API, the
// yes/no/n-a badges, change from baseline, the enrollment code, safety flags.

import { ApiError, api, errorMessage } from './api.js';
import { changeWords, day, dayAndTime, durationWords, labelOf, scoreText } from './format.js';
import { announce, h, show } from './ui.js';

let counter = 0;

/** A labelled control; `control` is an element whose id is set here. */
export function field(label, control, hint) {
  const id = control.id || `f${++counter}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null,
    control);
}

/** A select of [value, label] pairs; with a `placeholder`, an empty first choice that stays
 * chosen until the clinician picks one (no clinical value is chosen for them). */
export function select(name, options, selected, placeholder) {
  const none = selected === null || selected === undefined;
  return h('select', { name },
    placeholder ? h('option', { value: '', selected: none }, placeholder) : null,
    options.map(([value, label]) => h('option', { value, selected: !none && String(value) === String(selected) }, label)));
}

/** Thrown by an apiForm's `build` when the form is not complete: nothing is sent, `message`
 * is shown and the first of `controls` gets focus. */
export class Incomplete extends Error {
  constructor(message, controls = []) {
    super(message);
    this.controls = controls;
  }
}

/** The named selects of `form` still on their empty choice, as [control, label] pairs. */
export function unchosen(form, names) {
  return names.map((name) => form.elements.namedItem(name))
    .filter((control) => control && control.value === '')
    .map((control) => [control, labelText(form, control)]);
}

function labelText(form, control) {
  const label = form.querySelector(`label[for="${control.id}"]`);
  return (control.dataset.errorLabel || (label ? label.textContent : control.name)).trim();
}

/** The server's field errors as [path, messages], "crisis.crisis_line.phone" for nested ones. */
function fieldErrors(failure) {
  const found = [];
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) found.push([path, value]);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    }
  };
  const errors = failure instanceof ApiError && failure.body && failure.body.errors;
  if (errors && errors.json) walk(errors.json, '');
  return found;
}

function markInvalid(control, message) {
  control.setAttribute('aria-invalid', 'true');
  if (!message) return;
  const id = `${control.id}-error`;
  const note = h('p', { id, class: 'field-error' }, message);
  control.before(note);
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  control.setAttribute('aria-describedby', [...described, id].join(' '));
}

function clearInvalid(form) {
  for (const note of form.querySelectorAll('.field-error')) {
    const control = form.querySelector(`[aria-describedby~="${note.id}"]`);
    if (control) {
      const rest = control.getAttribute('aria-describedby').split(' ').filter((id) => id !== note.id);
      if (rest.length) control.setAttribute('aria-describedby', rest.join(' '));
      else control.removeAttribute('aria-describedby');
    }
    note.remove();
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

/**
 * A form that sends `build(formData, form)` to the API and calls `done(answer)`. Errors are
 * shown above the form and focused; a 422's field errors are also shown beside the fields
 * they name (inputs named by the field's path, "crisis.clinic_phone"), in the words of their
 * labels. `build` may throw Incomplete to send nothing; `explain(failure)` may return what to
 * show instead of the server's message (a link to where it can be put right).
 */
export function apiForm({ method = 'POST', path, build, done, submitLabel, children, className = 'stack', explain, attrs = {} }) {
  const error = h('div');
  const form = h('form', { class: className, novalidate: true, ...attrs }, error, ...children,
    h('button', { type: 'submit', class: 'primary' }, submitLabel));
  const alarm = (content, focus) => {
    show(error, h('div', { class: 'alert', role: 'alert', tabindex: '-1' }, content));
    (focus || error.firstChild).focus();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearInvalid(form);
    let body;
    try {
      body = build(new FormData(form), form);
    } catch (failure) {
      if (!(failure instanceof Incomplete)) throw failure;
      failure.controls.forEach((control) => markInvalid(control));
      alarm(h('p', {}, failure.message), failure.controls[0]);
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const answer = await api(typeof path === 'function' ? path(new FormData(form)) : path, { method, body });
      show(error);
      await done(answer, form);
      announce(`${submitLabel}: done.`);
    } catch (failure) {
      const explained = explain ? explain(failure) : null;
      const named = fieldErrors(failure).map(([name, messages]) => {
        const control = form.elements.namedItem(name);
        if (!(control instanceof Element)) return null;
        const words = `${labelText(form, control)}: ${messages.join(' ')}`;
        markInvalid(control, words);
        return words;
      });
      alarm(explained || (named.length && named.every(Boolean)
        ? [h('p', {}, 'Please correct the fields marked below:'), h('ul', {}, named.map((words) => h('li', {}, words)))]
        : h('p', {}, errorMessage(failure))));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** A response or remission badge; null says why, in the words of `reasons` (the
 * outcome_unavailable vocabulary) for the API's `outcome_unavailable`. */
export function yesNo(value, reason, reasons) {
  if (value === true) return h('span', { class: 'badge yes' }, 'yes');
  if (value === false) return h('span', { class: 'badge no' }, 'no');
  return h('span', { class: 'badge na' }, reason ? labelOf(reasons, reason) : 'n/a');
}

export function qrImage(svg, label) {
  return h('img', { class: 'qr', alt: label, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` });
}

/** Change from baseline in the one convention of every screen (format.js changeWords). */
export function changeText(change, percent) {
  return changeWords(change, percent);
}

/**
 * What response, remission and reliable change mean, one plain line each, from the summary's
 * own `thresholds` (null where the scale has no such rule).
 */
export function outcomeMeanings(thresholds) {
  const t = thresholds || {};
  const words = {};
  if (t.response_percent !== null && t.response_percent !== undefined) {
    words.response = `Response: the score has fallen by at least ${t.response_percent === 50 ? 'half' : `${t.response_percent} %`} from where it started.`;
  }
  if (t.remission_max !== null && t.remission_max !== undefined) {
    words.remission = `Remission: a score of ${t.remission_max} or lower, few or no symptoms left.`;
  }
  if (t.reliable_change !== null && t.reliable_change !== undefined) {
    words.reliable = `Reliable change: a change of ${t.reliable_change} points or more, larger than the usual ups and downs of the questionnaire.`;
  }
  return words;
}

/** A new enrollment or reset code: the code, its link and QR code, and until when it works.
 * An enrollment code comes as a handout for the patient (`name`, `clinic`): the three steps
 * to follow, printed alone on one page by its Print button. */
export function enrollmentDetails(enrollment, { name, clinic } = {}) {
  const kind = enrollment.purpose === 'reset' ? 'reset' : 'enrollment';
  const code = h('strong', { class: 'code' }, enrollment.code);
  const details = [
    h('p', {}, `${kind === 'reset' ? 'Reset' : 'Enrollment'} code: `, code),
    h('p', { class: 'link' }, 'Link: ', h('a', { href: enrollment.url }, enrollment.url)),
    h('p', { class: 'hint' }, `Works once, until ${day(enrollment.expires_at)}.`),
    qrImage(enrollment.qr_svg, `QR code for the ${kind} link of code ${enrollment.code}`),
  ];
  if (kind === 'reset') return h('div', { class: 'enrollment' }, details);
  const print = () => {
    document.body.classList.add('printing-handout');
    window.addEventListener('afterprint', () => document.body.classList.remove('printing-handout'), { once: true });
    window.print();
  };
  return h('div', { class: 'enrollment handout' },
    h('p', { class: 'handout-title' }, `${clinic ? `${clinic}: ` : ''}your Tidemark check-ins${name ? `, for ${name}` : ''}`),
    details,
    h('h3', {}, 'Three steps for the patient'),
    h('ol', { class: 'steps' },
      h('li', {}, 'Scan the QR code with your phone\'s camera, or type the link into your phone\'s browser.'),
      h('li', {}, `Check the code ${enrollment.code} is filled in, then enter your email and choose a password (at least 10 characters).`),
      h('li', {}, 'Answer your first check-in. Then add Tidemark to your home screen to find it again.')),
    h('p', { class: 'no-print' }, h('button', { type: 'button', onclick: print }, 'Print handout')));
}

// ---------------------------------------------------------------- safety flags

function lowerFirst(text) {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

/** The answer that raised a flag, from its `raised_by`: "PHQ-9 question 9 (thoughts that …):
 * “Several days”", or for a clinician-rated scale "MADRS item 10 (suicidal thoughts) rated 5". */
export function raisedByText(raised, scales) {
  if (!raised) return 'A safety item';
  const instrument = scales.find((s) => s.id === raised.instrument);
  const name = instrument ? instrument.name : raised.instrument;
  const item = `(${lowerFirst(raised.item_text)})`;
  const label = raised.answer_label;
  if (instrument && instrument.rater === 'clinician') {
    const extra = label && label !== String(raised.answer) ? `, ${label}` : '';
    return `${name} item ${raised.item_number} ${item} rated ${raised.answer}${extra}`;
  }
  return `${name} question ${raised.item_number} ${item}: “${label || raised.answer}”`;
}

/** When and in what the flag's answer was given: the finished entry, or a check-in that was
 * never finished (only the safety answer reached the clinic). */
export function flagSource(flag, scales) {
  if (flag.entry) {
    const instrument = scales.find((s) => s.id === flag.entry.instrument);
    const name = instrument ? instrument.name : flag.entry.instrument;
    return `Answered ${dayAndTime(flag.entry.taken_at)} in a ${name} of ${scoreText(flag.entry.total)} (${flag.entry.severity})`
      + `${flag.entry.voided ? '; the entry was voided since, the flag stays until resolved' : ''}.`;
  }
  const at = flag.signal ? ` ${dayAndTime(flag.signal.answered_at)}` : '';
  return `Answered${at} during a check-in that has not been finished: no completed questionnaire has arrived.`;
}

/** How long a flag has been open ("opened 3 days ago", overdue said in words), or how long it
 * took to resolve and by whom. */
export function flagAge(flag) {
  if (flag.status === 'resolved') {
    const who = flag.resolved_by && flag.resolved_by.display_name ? flag.resolved_by.display_name : 'a clinician';
    const took = flag.hours_to_resolve === null || flag.hours_to_resolve === undefined
      ? '' : ` in ${durationWords(flag.hours_to_resolve)}`;
    return h('p', { class: 'flag-age' }, `Resolved${took} by ${who}, ${dayAndTime(flag.resolved_at)}.`);
  }
  const age = flag.age_hours === null || flag.age_hours === undefined ? '' : ` ${durationWords(flag.age_hours)} ago`;
  return h('p', { class: 'flag-age' }, `Opened${age} (${dayAndTime(flag.opened_at)})`,
    flag.overdue ? [': ', h('strong', { class: 'badge overdue-flag' }, 'overdue')] : '', '.');
}

/** The note form that resolves a flag where it is shown; `done(flag)` gets the resolved flag. */
export function resolveFlagForm(flag, done, name) {
  return apiForm({
    path: `/flags/${flag.id}/resolve`,
    submitLabel: 'Resolve',
    className: 'stack resolve',
    attrs: { 'aria-label': `Resolve the flag${name ? ` of ${name}` : ''}` },
    build: (data, form) => {
      const note = String(data.get('note')).trim();
      if (!note) throw new Incomplete('Write what was done before resolving the flag.', [form.elements.namedItem('note')]);
      return { note };
    },
    done,
    children: [field('What was done', h('textarea', { name: 'note', rows: 3, required: true, maxlength: 2000 }),
      'Required, up to 2000 characters. For example: called the patient, safety plan reviewed.')],
  });
}

/** Which safety items of an entry were positive, in short words ("PHQ-9 question 9"). */
export function safetyItemsOf(entry, instrument) {
  if (!instrument) return 'safety item';
  const word = instrument.rater === 'clinician' ? 'item' : 'question';
  const positive = Object.entries(instrument.safety_thresholds || {}).flatMap(([itemId, threshold]) => {
    const index = instrument.items.findIndex((item) => item.id === itemId);
    const value = entry.answers[index];
    return value !== null && value !== undefined && value >= threshold
      ? [`${instrument.name} ${word} ${index + 1}`] : [];
  });
  return positive.join(', ') || 'safety item';
}
