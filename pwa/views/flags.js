// The safety-flag inbox: open flags oldest first, with the answers that raised them.

import { allPages } from '../api.js';
import { dayAndTime } from '../format.js';
import { instruments } from '../session.js';
import { focusHeading, h, show } from '../ui.js';
import { apiForm, field } from '../widgets.js';

export async function render(main, params) {
  document.title = 'Safety flags · Tidemark';
  const status = params.get('status') === 'resolved' ? 'resolved' : 'open';
  const [flags, scales] = await Promise.all([allPages(`/flags?status=${status}`), instruments()]);
  show(main,
    h('h1', {}, status === 'open' ? 'Open safety flags' : 'Resolved safety flags'),
    h('nav', { class: 'toggles', 'aria-label': 'Which flags' },
      h('a', { class: 'button toggle', href: '#/flags', 'aria-current': status === 'open' ? 'true' : null }, 'Open'),
      h('a', { class: 'button toggle', href: '#/flags?status=resolved', 'aria-current': status === 'resolved' ? 'true' : null }, 'Resolved')),
    flags.length
      ? h('ol', { class: 'flags' }, flags.map((flag) => h('li', {}, card(flag, scales, main, params))))
      : h('p', {}, status === 'open' ? 'No open safety flags.' : 'No resolved flags yet.'));
  focusHeading(main);
}

function card(flag, scales, main, params) {
  const instrument = scales.find((i) => i.id === flag.entry.instrument);
  const raised = instrument ? Object.entries(instrument.safety_thresholds).map(([itemId, threshold]) => {
    const index = instrument.items.findIndex((item) => item.id === itemId);
    const value = flag.entry.answers[index];
    const option = instrument.options.find((o) => o.value === value);
    return value !== null && value >= threshold
      ? h('p', {}, h('strong', {}, instrument.items[index].text), `: ${option ? option.label : value}`)
      : null;
  }) : [];
  const titleId = `flag-${flag.id}`;
  return h('article', { class: 'card', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, h('a', { href: `#/patient?id=${flag.patient.id}` }, flag.patient.display_name)),
    h('p', { class: 'hint' }, `${instrument ? instrument.name : flag.entry.instrument} answered ${dayAndTime(flag.entry.taken_at)} (flag opened ${dayAndTime(flag.opened_at)}); total ${flag.entry.total} (${flag.entry.severity}).`),
    raised,
    flag.entry.voided ? h('p', { class: 'hint' }, 'The entry was voided since; the flag stays until resolved.') : null,
    flag.status === 'resolved'
      ? h('p', {}, `Resolved ${dayAndTime(flag.resolved_at)} by ${flag.resolved_by && flag.resolved_by.display_name ? flag.resolved_by.display_name : 'a clinician'}: ${flag.note}`)
      : apiForm({
        path: `/flags/${flag.id}/resolve`,
        submitLabel: 'Resolve',
        build: (data) => ({ note: String(data.get('note')) }),
        done: () => render(main, params),
        children: [field('What was done', h('textarea', { name: 'note', rows: 3, required: true, maxlength: 2000 }),
          'Required. For example: called the patient, safety plan reviewed.')],
      }));
}
