// The clinician's panel: every patient, open safety flags first (with the oldest flag's age),
// then the most overdue.

import { ApiError, allPages, errorMessage, serverNow } from '../api.js';
import { choices, day, durationWords, hoursSince, scoreText } from '../format.js';
import { go } from '../nav.js';
import { instruments, state, vocabularies } from '../session.js';
import { focusHeading, h, show } from '../ui.js';
import { apiForm, changeText, enrollmentDetails, field, select, yesNo } from '../widgets.js';

export async function render(main, params) {
  document.title = 'Patients · Tidemark';
  const sort = params.get('sort') || 'default';
  const instrument = params.get('instrument') || 'phq9';
  const q = params.get('q') || '';
  const query = new URLSearchParams({ sort, instrument, ...(q ? { q } : {}) });
  const [rows, scales, words] = await Promise.all([allPages(`/patients?${query}`), instruments(), vocabularies()]);
  // Scales only: a quick rating has no baseline, change, response or remission to show.
  const names = scales.filter((s) => s.kind !== 'quick_rating').map((s) => [s.id, s.name]);

  const filters = h('form', { class: 'filters', role: 'search' },
    field('Name contains', h('input', { name: 'q', value: q, type: 'search' })),
    field('Questionnaire', select('instrument', names, instrument)),
    field('Order', select('sort', choices(words.panel_sorts), sort)),
    h('button', { type: 'submit' }, 'Show'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(filters);
    const next = new URLSearchParams({ sort: data.get('sort'), instrument: data.get('instrument') });
    if (String(data.get('q')).trim()) next.set('q', String(data.get('q')).trim());
    go(`#/panel?${next}`);
  });

  const adding = h('div');
  show(main,
    h('div', { class: 'title-row' },
      h('h1', {}, 'Patients'),
      h('button', { type: 'button', onclick: () => addPatient(adding) }, 'Add a patient')),
    adding,
    filters,
    rows.length ? table(rows, names, instrument, words.outcome_unavailable) : h('p', {}, 'No patients match.'),
  );
  focusHeading(main);
}

function table(rows, names, instrument, reasons) {
  const [, name] = names.find(([id]) => id === instrument) || [instrument, instrument];
  return h('div', { class: 'table-scroll' }, h('table', { class: 'panel' },
    h('caption', {}, `${rows.length} patients, ${name} figures`),
    h('thead', {}, h('tr', {},
      ['Patient', 'Safety flags', 'Latest', 'Change from baseline', 'Response', 'Remission',
        'Last check-in', 'Sessions', 'Check-in'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows.map((row) => h('tr', { class: row.open_flag_count ? `flagged${row.open_flag_overdue ? ' flag-overdue' : ''}` : null },
      h('th', { scope: 'row' }, h('a', { href: `#/patient?id=${row.patient.id}` }, row.patient.display_name),
        row.patient.external_id ? h('span', { class: 'hint' }, ` ${row.patient.external_id}`) : null),
      h('td', {}, row.open_flag_count ? flagCell(row) : 'none'),
      h('td', {}, row.latest ? `${scoreText(row.latest.total)} (${row.latest.severity})` : '–'),
      h('td', {}, changeText(row.change, row.percent_change) || '–'),
      h('td', {}, yesNo(row.response, row.outcome_unavailable, reasons)),
      h('td', {}, yesNo(row.remission, row.outcome_unavailable, reasons)),
      h('td', {}, row.last_entry_at ? day(row.last_entry_at) : 'never'),
      h('td', {}, String(row.sessions_count)),
      h('td', {}, row.overdue
        ? h('span', { class: 'badge overdue' }, 'overdue')
        : (row.next_due_at ? `due ${day(row.next_due_at)}` : '–')))))));
}

/** "1 open · 2 days" from the oldest open flag, and "overdue" in words when it is. */
function flagCell(row) {
  const age = row.oldest_open_flag_at ? ` · ${durationWords(hoursSince(row.oldest_open_flag_at, serverNow()))}` : '';
  return [
    h('span', { class: 'badge flag' }, `${row.open_flag_count} open${age}`),
    row.open_flag_overdue ? [' ', h('strong', { class: 'badge overdue-flag' }, 'overdue')] : null,
  ];
}

/** The 409 of a clinic without crisis resources: its message, and where to set them. */
function explainRefusal(failure) {
  if (!(failure instanceof ApiError && failure.status === 409)) return null;
  return [
    h('p', {}, errorMessage(failure)),
    h('p', {}, state.user.is_admin
      ? h('a', { href: '#/admin' }, 'Set the crisis resources in Clinic admin')
      : ['A clinic admin can set them; ', h('a', { href: '#/admin' }, 'see what is set'), '.']),
  ];
}

function addPatient(container) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const form = apiForm({
    path: '/patients',
    submitLabel: 'Add patient',
    explain: explainRefusal,
    build: (data) => ({
      display_name: String(data.get('display_name')).trim(),
      ...(String(data.get('external_id')).trim() ? { external_id: String(data.get('external_id')).trim() } : {}),
      timezone: String(data.get('timezone')).trim(),
    }),
    done: (answer) => {
      show(container, h('section', { class: 'card', 'aria-labelledby': 'new-patient' },
        h('h2', { id: 'new-patient' }, `${answer.patient.display_name} was added`),
        enrollmentDetails(answer.enrollment),
        h('p', {}, h('a', { href: `#/patient?id=${answer.patient.id}` }, 'Open the patient'))));
      focusHeading(container);
    },
    children: [
      h('h2', {}, 'Add a patient'),
      field('Name', h('input', { name: 'display_name', required: true, autocomplete: 'off' })),
      field('External id (optional)', h('input', { name: 'external_id', autocomplete: 'off' }), 'For example the record number in your EHR.'),
      field('Time zone', h('input', { name: 'timezone', value: zone }), 'An IANA name such as Europe/Berlin.'),
    ],
  });
  show(container, h('section', { class: 'card' }, form));
  form.querySelector('input').focus();
}
