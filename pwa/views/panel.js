// The clinician's panel: every patient, open safety flags first (with the oldest flag's age),
// then the most overdue.

import { ApiError, allPages, errorMessage, serverNow } from '../api.js';
import { choices, day, durationWords, hoursSince, scoreText } from '../format.js';
import { go } from '../nav.js';
import { instruments, state, vocabularies } from '../session.js';
import { focusHeading, h, show } from '../ui.js';
import { apiForm, changeText, enrollmentDetails, field, select, yesNo } from '../widgets.js';

// Which rows the count buttons above the panel show (`?show=`), and how each is counted.
const SHOWN = {
  all: { label: 'All', test: () => true },
  flags: { label: 'Open flags', test: (row) => row.open_flag_count > 0, count: (rows) => rows.reduce((n, row) => n + row.open_flag_count, 0) },
  overdue: { label: 'Overdue', test: (row) => row.overdue },
  responding: { label: 'Responding', test: (row) => row.response === true },
  no_baseline: { label: 'No baseline', test: (row) => !row.baseline },
};

export async function render(main, params) {
  document.title = 'Patients · Tidemark';
  const sort = params.get('sort') || 'default';
  const instrument = params.get('instrument') || 'phq9';
  const q = params.get('q') || '';
  const shown = params.get('show') in SHOWN ? params.get('show') : 'all';
  const query = new URLSearchParams({ sort, instrument, ...(q ? { q } : {}) });
  const [rows, scales, words] = await Promise.all([allPages(`/patients?${query}`), instruments(), vocabularies()]);
  // Scales only: a quick rating has no baseline, change, response or remission to show.
  const names = scales.filter((s) => s.kind !== 'quick_rating').map((s) => [s.id, s.name]);
  const scale = scales.find((s) => s.id === instrument);

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
    if (shown !== 'all') next.set('show', shown);
    go(`#/panel?${next}`);
  });

  const visible = rows.filter(SHOWN[shown].test);
  const adding = h('div');
  show(main,
    h('div', { class: 'title-row' },
      h('h1', {}, 'Patients'),
      h('button', { type: 'button', onclick: () => addPatient(adding) }, 'Add a patient')),
    adding,
    filters,
    counts(rows, query, shown),
    visible.length ? table(visible, rows.length, shown, scale, names, instrument, words.outcome_unavailable)
      : h('p', {}, rows.length ? `No patient is ${SHOWN[shown].label.toLowerCase()}.` : 'No patients match.'),
  );
  focusHeading(main);
}

/** The counts over the whole panel, each a link that shows only those patients. */
function counts(rows, query, shown) {
  return h('nav', { class: 'toggles counts', 'aria-label': 'Show patients' },
    Object.entries(SHOWN).map(([key, { label, test, count }]) => {
      const next = new URLSearchParams(query);
      if (key !== 'all') next.set('show', key);
      const number = count ? count(rows) : rows.filter(test).length;
      return h('a', { class: 'button toggle', href: `#/panel?${next}`, 'aria-current': key === shown ? 'true' : null },
        h('span', { class: 'count' }, String(number)), ` ${label}`);
    }));
}

function table(rows, total, shown, scale, names, instrument, reasons) {
  const [, name] = names.find(([id]) => id === instrument) || [instrument, instrument];
  const now = serverNow();
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h('div', { class: 'table-scroll' }, h('table', { class: 'panel cards' },
    h('caption', { class: 'visually-hidden' }, shown === 'all'
      ? `${rows.length} patients, ${name} figures`
      : `${rows.length} of ${total} patients (${SHOWN[shown].label.toLowerCase()}), ${name} figures`),
    h('thead', {}, h('tr', {},
      ['Patient', 'Safety flags', 'Trend', 'Latest', 'Change', 'Outcome',
        'Last check-in', 'Next check-in', 'Sessions'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows.map((row) => h('tr', { class: row.open_flag_count ? `flagged${row.open_flag_overdue ? ' flag-overdue' : ''}` : null },
      h('th', { scope: 'row' }, h('a', { href: `#/patient?id=${row.patient.id}` }, row.patient.display_name),
        row.patient.external_id ? h('span', { class: 'hint' }, ` ${row.patient.external_id}`) : null),
      cell('Safety flags', row.open_flag_count ? flagCell(row, now) : 'none'),
      cell('Trend', trend(row, scale)),
      cell('Latest', row.latest ? `${scoreText(row.latest.total)} (${row.latest.severity})` : '–'),
      cell('Change', changeText(row.change, row.percent_change) || '–'),
      cell('Outcome', outcome(row, reasons)),
      cell('Last check-in', row.last_entry_at ? daysAgo(row.last_entry_at, now) : 'never'),
      cell('Next check-in', row.overdue
        ? h('span', { class: 'badge overdue' }, overdueWords(row.next_due_at, now))
        : (row.next_due_at ? `due ${dueDay(row.next_due_at, now)}` : '–')),
      cell('Sessions', String(row.sessions_count)))))));
}

/** "overdue 6 days"; "due now" in its first hour (a new patient's first check-in). */
function overdueWords(dueAt, now) {
  if (!dueAt) return 'overdue';
  const hours = hoursSince(dueAt, now);
  return hours < 1 ? 'due now' : `overdue ${durationWords(hours)}`;
}

/** "Dec 12" within the coming year, else with its year: the panel's row stays narrow. */
function dueDay(value, now) {
  const date = new Date(value);
  if (date - now > 300 * 86400000) return day(value);
  return date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

/** Response and remission in one cell: "responding", "in remission", or why neither is known. */
function outcome(row, reasons) {
  if (row.response === null && row.remission === null) return yesNo(null, row.outcome_unavailable, reasons);
  return [
    h('span', { class: `badge ${row.response ? 'yes' : 'no'}` }, row.response ? 'responding' : 'not responding'),
    row.remission ? [' ', h('span', { class: 'badge yes' }, 'in remission')] : null,
  ];
}

/** "today", "yesterday", "12 days ago": how long since the patient last checked in. */
function daysAgo(value, now) {
  const days = Math.floor(hoursSince(value, now) / 24);
  if (days <= 0) return 'today';
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

/** The newest scores as a small line, the latest one a dot; said in words to a screen reader. */
function trend(row, scale) {
  const points = row.recent_scores || [];
  if (!points.length || !scale) return '–';
  const width = 72;
  const height = 22;
  const x = (i) => (points.length > 1 ? (i * width) / (points.length - 1) : width);
  const y = (total) => height - (total / scale.max) * height;
  const last = points[points.length - 1];
  const change = points.length > 1 ? last.total - points[0].total : 0;
  return h('svg:svg', {
    class: `trend-spark${change < 0 ? ' better' : change > 0 ? ' worse' : ''}`,
    viewBox: `-3 -3 ${width + 6} ${height + 6}`, width: width + 6, height: height + 6, role: 'img',
    'aria-label': `${scale.name}, last ${points.length === 1 ? 'score' : `${points.length} scores`}, oldest first: ${points.map((p) => scoreText(p.total)).join(', ')}`,
  },
  points.length > 1 ? h('svg:polyline', {
    class: 'spark-trend', points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.total).toFixed(1)}`).join(' '),
  }) : null,
  h('svg:circle', { class: 'spark-last', cx: x(points.length - 1), cy: y(last.total), r: 2.5 }));
}

/** "1 open · 2 days" from the oldest open flag, and "overdue" in words when it is. */
function flagCell(row, now) {
  const age = row.oldest_open_flag_at ? ` · ${durationWords(hoursSince(row.oldest_open_flag_at, now))}` : '';
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
        enrollmentDetails(answer.enrollment, { name: answer.patient.display_name, clinic: state.user.clinic.name }),
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
