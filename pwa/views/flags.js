// The safety-flag inbox: open flags oldest first with their age (overdue said in words), the
// answer that raised each one, and resolved flags with the time they took to resolve.

import { allPages, api } from '../api.js';
import { plural } from '../format.js';
import { instruments } from '../session.js';
import { focusHeading, h, show } from '../ui.js';
import { flagAge, flagSource, raisedByText, resolveFlagForm } from '../widgets.js';

export async function render(main, params) {
  document.title = 'Safety flags · Tidemark';
  const status = params.get('status') === 'resolved' ? 'resolved' : 'open';
  const [flags, scales, clinic] = await Promise.all([
    allPages(`/flags?status=${status}`),
    instruments(),
    api('/clinic').catch(() => null), // only for the overdue hint
  ]);
  const overdue = flags.filter((flag) => flag.overdue).length;
  show(main,
    h('h1', {}, status === 'open' ? 'Open safety flags' : 'Resolved safety flags'),
    h('nav', { class: 'toggles', 'aria-label': 'Which flags' },
      h('a', { class: 'button toggle', href: '#/flags', 'aria-current': status === 'open' ? 'true' : null }, 'Open'),
      h('a', { class: 'button toggle', href: '#/flags?status=resolved', 'aria-current': status === 'resolved' ? 'true' : null }, 'Resolved')),
    status === 'open' && flags.length ? h('p', {}, `${plural(flags.length, 'open flag', 'open flags')}, oldest first`,
      overdue ? [', ', h('strong', {}, `${overdue} overdue`)] : '',
      clinic && clinic.flag_overdue_hours ? ` (a flag is overdue when open longer than ${plural(clinic.flag_overdue_hours, 'hour', 'hours')}).` : '.') : null,
    flags.length
      ? h('ol', { class: 'flags' }, flags.map((flag) => h('li', {}, card(flag, scales, main, params))))
      : h('p', {}, status === 'open' ? 'No open safety flags.' : 'No resolved flags yet.'));
  focusHeading(main);
}

function card(flag, scales, main, params) {
  const titleId = `flag-${flag.id}`;
  return h('article', { class: `card flag-card${flag.overdue ? ' overdue' : ''}`, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, h('a', { href: `#/patient?id=${flag.patient.id}` }, flag.patient.display_name)),
    h('p', { class: 'raised-by' }, h('strong', {}, raisedByText(flag.raised_by, scales))),
    h('p', { class: 'hint' }, flagSource(flag, scales)),
    flagAge(flag),
    flag.status === 'resolved'
      ? h('p', {}, `Note: ${flag.note}`)
      : resolveFlagForm(flag, () => render(main, params), flag.patient.display_name));
}
