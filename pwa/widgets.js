// Shared pieces of the clinician's screens: labelled fields, forms that call the API, the
// yes/no/n-a badges, change from baseline, the enrollment code.

import { api, errorMessage } from './api.js';
import { day, labelOf } from './format.js';
import { alertBox, announce, h, show } from './ui.js';

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

export function select(name, options, selected) {
  return h('select', { name },
    options.map(([value, label]) => h('option', { value, selected: String(value) === String(selected) }, label)));
}

/**
 * A form that sends `build(formData)` to the API and calls `done(answer)`; errors are shown
 * above the form and focused.
 */
export function apiForm({ method = 'POST', path, build, done, submitLabel, children, className = 'stack' }) {
  const error = h('div');
  const form = h('form', { class: className, novalidate: true }, error, ...children,
    h('button', { type: 'submit', class: 'primary' }, submitLabel));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const answer = await api(typeof path === 'function' ? path(new FormData(form)) : path, {
        method, body: build(new FormData(form)),
      });
      show(error);
      await done(answer, form);
      announce(`${submitLabel}: done.`);
    } catch (failure) {
      show(error, alertBox(errorMessage(failure)));
      const alert = error.querySelector('[role=alert]');
      alert.setAttribute('tabindex', '-1');
      alert.focus();
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

/** Change from baseline as the score moved: "−10 points (55.6 %)" is a 10-point drop. */
export function changeText(change, percent) {
  if (change === null || change === undefined) return null;
  const sign = change > 0 ? '−' : change < 0 ? '+' : '';
  return `${sign}${Math.abs(change)} points${percent === null || percent === undefined ? '' : ` (${percent} %)`}`;
}

/** A new enrollment code: the code, its link and QR code, and until when it works. */
export function enrollmentDetails(enrollment) {
  return h('div', { class: 'enrollment' },
    h('p', {}, 'Enrollment code: ', h('strong', { class: 'code' }, enrollment.code)),
    h('p', {}, 'Link: ', h('a', { href: enrollment.url }, enrollment.url)),
    h('p', { class: 'hint' }, `Works once, until ${day(enrollment.expires_at)}.`),
    qrImage(enrollment.qr_svg, `QR code for the enrollment link of code ${enrollment.code}`));
}
