// A session's monitoring record for the clinician, laid out for a tablet at the chair: vital
// signs as rows (time, blood pressure, pulse, SpO2), sedation, dissociation, respiratory
// depression, adverse events, minutes, discharge and notes; the saved readings as a chart
// with raised ones marked; and a one-page session sheet to print.

import { api } from '../api.js';
import { vitalsChart } from '../vitals-chart.js';
import { choices, day, dayAndTime, isoWithOffset, labelOf } from '../format.js';
import { vocabularies } from '../session.js';
import { button, focusHeading, h, show } from '../ui.js';
import { Incomplete, apiForm, field, select, unchosen } from '../widgets.js';

const MINUTE = 60000;
const DAY = 86400000;
// This screen's own styles, kept out of style.css (and so out of every first load).
const styled = new Promise((resolve) => {
  document.head.append(h('link', { rel: 'stylesheet', href: '/monitoring.css', onload: resolve, onerror: resolve }));
});
const BLANK_ROWS = 8; // a sheet printed before anything is recorded, to fill in by hand

const pad = (n) => String(n).padStart(2, '0');
const clock = (value) => {
  const date = new Date(value);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

/** The moment a "HH:MM" typed on the form means: on the day that puts it nearest the
 * session's start (a session at 23:30 has readings after midnight), or, for a discharge, the
 * first such time after the start. */
function timeNear(hhmm, startedAt, { after = false } = {}) {
  const [hours, minutes] = hhmm.split(':').map(Number);
  const start = new Date(startedAt);
  const candidates = [-1, 0, 1].map((shift) => {
    const date = new Date(start.getFullYear(), start.getMonth(), start.getDate() + shift, hours, minutes);
    return date;
  });
  if (after) return candidates.find((date) => date >= start) || candidates[2];
  return candidates.reduce((best, date) => (Math.abs(date - start) < Math.abs(best - start) ? date : best));
}

export async function render(main, params, notice = null) {
  await styled;
  const pid = params.get('patient');
  const sid = params.get('session');
  const base = `/patients/${encodeURIComponent(pid)}/sessions/${encodeURIComponent(sid)}`;
  const [detail, session, record, words, clinic] = await Promise.all([
    api(`/patients/${encodeURIComponent(pid)}`),
    api(base),
    api(`${base}/monitoring`),
    vocabularies(),
    api('/clinic'),
  ]);
  const thresholds = record ? record.thresholds : clinic.blood_pressure_thresholds;
  const { patient } = detail;
  document.title = `Monitoring · ${patient.display_name} · Tidemark`;
  const back = `#/patient?id=${encodeURIComponent(pid)}`;
  const about = [
    labelOf(words.treatments, session.treatment),
    session.dose_mg === null ? null : `${session.dose_mg} mg`,
    longTime(session.started_at),
    labelOf(words.session_statuses, session.status),
  ].filter(Boolean).join(', ');
  const refresh = (saved) => render(main, params, saved);

  show(main,
    h('div', { class: 'title-row no-print' },
      h('h1', {}, `Monitoring: ${patient.display_name}`),
      h('div', { class: 'actions' },
        session.status === 'cancelled' ? null : button('Print session sheet', () => window.print()),
        h('a', { class: 'button', href: back }, `Back to ${patient.display_name}`))),
    h('p', { class: 'no-print session-about' }, about),
    session.notes ? h('p', { class: 'no-print' }, h('strong', {}, 'Session notes: '), session.notes) : null,
    notice ? h('p', { class: 'notice no-print', role: 'status' }, notice) : null,
    session.status === 'cancelled'
      ? h('p', { class: 'notice' }, `This session was cancelled on ${day(session.cancelled_at)}: it has no monitoring record.`)
      : [
        h('div', { class: 'monitoring-layout no-print' },
          h('section', { class: 'card', 'aria-labelledby': 'monitoring-form-title' },
            h('h2', { id: 'monitoring-form-title' }, record ? 'Monitoring record' : 'Record monitoring'),
            record ? h('p', { class: 'hint' }, recordedText(record)) : null,
            monitoringForm(base, session, record, words, refresh)),
          h('section', { class: 'card', 'aria-labelledby': 'vitals-chart-title' },
            h('h2', { id: 'vitals-chart-title' }, 'Vital signs'),
            record && record.vitals.length
              ? [vitalsChart(record, session.started_at), vitalsTable(record, session, 'Saved readings')]
              : h('p', {}, 'The saved readings are drawn here.'),
            h('p', { class: 'hint' }, thresholdsText(thresholds)))),
        sessionSheet({ patient, session, record, words, clinic, thresholds }),
      ],
  );
  focusHeading(main);
}

function longTime(value) {
  return new Date(value).toLocaleString(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

function recordedText(record) {
  const changed = record.updated_at ? `; last saved ${dayAndTime(record.updated_at)}` : '';
  return `Recorded by ${record.recorded_by.display_name}, ${dayAndTime(record.recorded_at)}${changed}.`;
}

function thresholdsText(thresholds) {
  const { before_dosing: before, any_time: always } = thresholds;
  return `Raised: above ${before.systolic}/${before.diastolic} before dosing, or above ${always.systolic}/${always.diastolic} at any time (the clinic's thresholds). Raised readings are kept, never refused.`;
}

// ---------------------------------------------------------------- the form

function monitoringForm(base, session, record, words, refresh) {
  const rows = h('div', { class: 'readings' });
  const renumber = () => {
    [...rows.children].forEach((row, index) => {
      row.querySelector('legend').textContent = `Reading ${index + 1}`;
      row.querySelector('.remove-reading').setAttribute('aria-label', `Remove reading ${index + 1}`);
      for (const input of row.querySelectorAll('input')) {
        input.name = `vitals.${index}.${input.dataset.key}`;
        input.dataset.errorLabel = `Reading ${index + 1} ${input.dataset.words}`;
      }
    });
  };
  const addRow = (reading) => {
    const row = readingRow(reading, () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      (next ? next.querySelector('input') : addButton).focus();
    });
    rows.append(row);
    renumber();
    return row;
  };
  const saved = record ? record.vitals : [];
  for (const reading of saved) addRow(reading);
  if (!saved.length) addRow(nowIfDuring(session));
  const addButton = button('Add a reading', () => addRow(nowIfDuring(session)).querySelector('input').focus());

  const chosen = (value) => (value === undefined || value === null ? null : String(value));
  return apiForm({
    method: 'PUT',
    path: `${base}/monitoring`,
    submitLabel: 'Save monitoring record',
    className: 'stack monitoring-form',
    build: (data, form) => buildRecord(data, form, rows, session),
    done: () => refresh(`Saved at ${clock(new Date())}. The chart and the session sheet show the saved record.`),
    children: [
      h('fieldset', { class: 'vitals-fieldset' },
        h('legend', {}, 'Vital signs'),
        h('p', { class: 'hint' }, 'Time as on the clock; readings before the dose count as before dosing. Pressure in mmHg, heart rate in beats a minute, SpO₂ in %.'),
        rows,
        addButton),
      h('div', { class: 'grid' },
        field('Sedation (worst)', select('sedation', choices(words.monitoring_levels), record && record.sedation, 'Choose')),
        field('Dissociation (worst)', select('dissociation', choices(words.monitoring_levels), record && record.dissociation, 'Choose')),
        field('Respiratory depression', select('respiratory_depression', [['false', 'No'], ['true', 'Yes']],
          record ? chosen(record.respiratory_depression) : null, 'Choose'))),
      h('fieldset', { class: 'events' },
        h('legend', {}, 'Adverse events'),
        h('div', { class: 'checks' }, words.adverse_events.map((term) => h('div', { class: 'inline' },
          h('input', {
            type: 'checkbox', id: `event-${term.value}`, name: 'adverse_events', value: term.value,
            checked: Boolean(record && record.adverse_events.includes(term.value)),
          }),
          h('label', { for: `event-${term.value}` }, term.label))))),
      h('div', { class: 'grid' },
        field('Monitored for (minutes)', minutesInput('monitoring_minutes', record), 'After dosing.'),
        field('Ready to leave after (minutes)', minutesInput('ready_to_leave_minutes', record), 'Minutes after dosing.'),
        field('Discharged at', h('input', {
          type: 'time', name: 'discharged_at',
          value: record && record.discharged_at ? clock(record.discharged_at) : '',
        }), 'Time left the clinic.')),
      field('Notes', h('textarea', { name: 'notes', rows: 3, maxlength: 2000 }, record && record.notes ? record.notes : '')),
    ],
  });
}

/** The time now, for a new reading while the session is on (from an hour before it to a day
 * after); otherwise the clinician types it. */
function nowIfDuring(session) {
  const now = Date.now();
  const start = new Date(session.started_at).getTime();
  return now > start - 60 * MINUTE && now < start + DAY ? { at: new Date(now).toISOString() } : {};
}

function minutesInput(name, record) {
  const value = record && record[name] !== null && record[name] !== undefined ? record[name] : '';
  return h('input', { type: 'number', name, min: 0, max: 1440, step: 1, inputmode: 'numeric', value });
}

const READING_FIELDS = [
  ['at', 'Time', 'time'],
  ['systolic', 'Systolic', 'systolic'],
  ['diastolic', 'Diastolic', 'diastolic'],
  ['heart_rate', 'Heart rate', 'heart rate'],
  ['spo2', 'SpO₂', 'SpO₂'],
];

function readingRow(reading, remove) {
  const inputs = READING_FIELDS.map(([key, label, words]) => {
    const value = reading[key];
    const input = key === 'at'
      ? h('input', { type: 'time', value: value ? clock(value) : '' })
      // Text with a number keyboard: no spinner arrows to eat the width of a tablet's cell.
      : h('input', {
        type: 'text', inputmode: 'numeric', pattern: '[0-9]*', maxlength: 3, autocomplete: 'off',
        value: value === null || value === undefined ? '' : value,
      });
    input.dataset.key = key;
    input.dataset.words = words;
    return field(label, input);
  });
  return h('fieldset', { class: 'reading' },
    h('legend', {}, 'Reading'),
    inputs,
    button('✕', remove, { class: 'remove-reading', title: 'Remove this reading', 'aria-label': 'Remove this reading' }));
}

const WHOLE = /^\d{1,4}$/;

function buildRecord(data, form, rows, session) {
  const problems = [];
  const vitals = [];
  for (const [index, row] of [...rows.children].entries()) {
    const control = (key) => row.querySelector(`input[data-key="${key}"]`);
    const need = (key, what) => problems.push([control(key), `reading ${index + 1}: ${what}`]);
    const text = (key) => control(key).value.trim();
    if (READING_FIELDS.every(([key]) => !text(key))) continue; // a row left empty is not sent
    const reading = {};
    for (const [key] of READING_FIELDS) {
      const value = text(key);
      if (key === 'at') {
        if (!value) need(key, 'the time');
        else reading.at = isoWithOffset(timeNear(value, session.started_at));
      } else if (value === '') {
        if (key === 'systolic' || key === 'diastolic') need(key, `the ${key} pressure`);
      } else if (!WHOLE.test(value)) {
        need(key, `${control(key).dataset.words} as a whole number`);
      } else {
        reading[key] = Number(value);
      }
    }
    vitals.push(reading);
  }
  const missing = unchosen(form, ['sedation', 'dissociation', 'respiratory_depression']);
  if (problems.length || missing.length) {
    const parts = [
      ...problems.map(([, what]) => what),
      ...missing.map(([, label]) => label.toLowerCase()),
    ];
    throw new Incomplete(`Not saved yet. Please give: ${parts.join('; ')}.`,
      [...problems.map(([control]) => control), ...missing.map(([control]) => control)]);
  }
  const minutes = (name) => {
    const value = String(data.get(name)).trim();
    return value === '' ? null : Number(value);
  };
  const discharge = String(data.get('discharged_at')).trim();
  const notes = String(data.get('notes')).trim();
  return {
    vitals,
    sedation: String(data.get('sedation')),
    dissociation: String(data.get('dissociation')),
    respiratory_depression: data.get('respiratory_depression') === 'true',
    adverse_events: data.getAll('adverse_events').map(String),
    monitoring_minutes: minutes('monitoring_minutes'),
    ready_to_leave_minutes: minutes('ready_to_leave_minutes'),
    discharged_at: discharge ? isoWithOffset(timeNear(discharge, session.started_at, { after: true })) : null,
    notes: notes || null,
  };
}

// ---------------------------------------------------------------- readings as a table

function vitalsTable(record, session, caption) {
  const start = new Date(session.started_at);
  return h('table', { class: 'vitals-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Time', 'Blood pressure (mmHg)', 'Heart rate (/min)', 'SpO₂ (%)', 'Raised'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, record.vitals.map((v) => h('tr', { class: v.raised ? 'raised' : null },
      h('th', { scope: 'row' }, clock(v.at), new Date(v.at) < start ? h('span', { class: 'hint' }, ' before dose') : null),
      h('td', {}, `${v.systolic}/${v.diastolic}`),
      h('td', {}, v.heart_rate === null ? '–' : String(v.heart_rate)),
      h('td', {}, v.spo2 === null ? '–' : String(v.spo2)),
      h('td', {}, v.raised ? h('strong', { class: 'badge raised' }, 'raised') : '')))));
}

// ---------------------------------------------------------------- the printed sheet

/** Everything a monitoring form asks for, on one page: who, where, when, what was given,
 * the readings, the observations and who recorded them. Blank lines to fill in by hand when
 * nothing has been recorded yet. */
function sessionSheet({ patient, session, record, words, clinic, thresholds }) {
  const blank = h('span', { class: 'blank' }, '');
  const value = (text) => (text === null || text === undefined || text === '' ? blank.cloneNode() : text);
  const levels = (name) => (record ? labelOf(words.monitoring_levels, record[name]) : choicesLine(words.monitoring_levels));
  const rows = [
    ['Sedation (worst)', levels('sedation')],
    ['Dissociation (worst)', levels('dissociation')],
    ['Respiratory depression', record ? (record.respiratory_depression ? 'Yes' : 'No') : 'Yes / No'],
    ['Adverse events', record
      ? (record.adverse_events.length ? record.adverse_events.map((e) => labelOf(words.adverse_events, e)).join(', ') : 'None')
      : choicesLine(words.adverse_events)],
    ['Monitored for', record && record.monitoring_minutes !== null ? `${record.monitoring_minutes} minutes after dosing` : [value(null), ' minutes after dosing']],
    ['Ready to leave after', record && record.ready_to_leave_minutes !== null ? `${record.ready_to_leave_minutes} minutes after dosing` : [value(null), ' minutes after dosing']],
    ['Discharged at', record && record.discharged_at ? dayAndTime(record.discharged_at) : value(null)],
    ['Notes', record && record.notes ? record.notes : value(null)],
  ];
  const readings = record && record.vitals.length ? vitalsTable(record, session, 'Vital signs')
    : h('table', { class: 'vitals-table' },
      h('caption', {}, 'Vital signs'),
      h('thead', {}, h('tr', {}, ['Time', 'Blood pressure (mmHg)', 'Heart rate (/min)', 'SpO₂ (%)'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, Array.from({ length: BLANK_ROWS }, () => h('tr', { class: 'blank-row' }, [0, 1, 2, 3].map(() => h('td', {}, ''))))));
  return h('section', { class: 'session-sheet print-only', 'aria-label': 'Session sheet for printing' },
    h('header', { class: 'sheet-head' },
      h('h2', {}, 'Treatment session monitoring'),
      h('p', {}, clinic.name)),
    h('dl', { class: 'sheet-facts' },
      [
        ['Patient', `${patient.display_name}${patient.external_id ? ` (${patient.external_id})` : ''}`],
        ['Session start (dose)', longTime(session.started_at)],
        ['Treatment', labelOf(words.treatments, session.treatment)],
        ['Dose', session.dose_mg === null ? value(null) : `${session.dose_mg} mg`],
        ['Session notes', session.notes || '–'],
      ].map(([term, text]) => h('div', {}, h('dt', {}, term), h('dd', {}, text)))),
    readings,
    record && record.vitals.length ? vitalsChart(record, session.started_at, { compact: true }) : null,
    h('p', { class: 'sheet-small' }, thresholdsText(thresholds)),
    h('dl', { class: 'sheet-observations' }, rows.map(([term, text]) => h('div', {}, h('dt', {}, term), h('dd', {}, text)))),
    h('footer', { class: 'sheet-foot' },
      h('p', {}, record ? recordedText(record) : ['Recorded by ', blank.cloneNode(), ' Signature ', blank.cloneNode()]),
      h('p', {}, `Printed ${longTime(new Date())} from Tidemark.`)));
}

function choicesLine(terms) {
  // A space between the choices: a line may break there, never inside one.
  return terms.flatMap((t) => [h('span', { class: 'choice' }, `☐\u00a0${t.label}`), ' ']);
}
