// One patient for the clinician: open safety flags first (resolved where they are shown),
// then outcomes and charts, sessions, entries, MADRS, schedule, enrollment and exports.
// Prints as a one-page summary: clinic, patient, who printed it and when, open and recently
// resolved flags, each scale's figures, chart (with a legend) and newest scores, and sessions.

import { allPages, api, errorMessage } from '../api.js';
import { chart, outcomeLines, pairChart } from '../chart.js';
import {
  changeWords, choices, day, dayAndTime, isoWithOffset, labelOf, plural, ratingPairs,
  scoreText,
} from '../format.js';
import { reminderSettingsForm } from '../reminder-settings.js';
import { instruments, state, vocabularies } from '../session.js';
import { alertBox, announce, button, focusHeading, h, show } from '../ui.js';
import {
  Incomplete, apiForm, changeText, enrollmentDetails, field, flagAge, flagSource, outcomeMeanings, raisedByText,
  resolveFlagForm, safetyItemsOf, select, unchosen, yesNo,
} from '../widgets.js';

const RECENT_DAYS = 30; // resolved flags the printed summary lists

function localInput(value) {
  const date = value ? new Date(value) : new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value) {
  return isoWithOffset(new Date(value));
}

export async function render(main, params) {
  const id = params.get('id');
  const [detail, scales, words, sessions, entries, resolved, reminders] = await Promise.all([
    api(`/patients/${id}`),
    instruments(),
    vocabularies(),
    allPages(`/patients/${id}/sessions`),
    allPages(`/patients/${id}/entries`),
    recentlyResolved(id),
    api(`/patients/${id}/reminders`),
  ]);
  const summaries = await Promise.all(scales.map((s) => api(`/patients/${id}/summary?instrument=${s.id}`)));
  const { patient } = detail;
  document.title = `${patient.display_name} · Tidemark`;
  const refresh = () => render(main, params);
  const byId = Object.fromEntries(scales.map((s) => [s.id, s]));
  const safety = safetyArea(summaries[0] ? summaries[0].open_flags : [], resolved, scales, patient.display_name);

  show(main,
    h('header', { class: 'print-only print-head' },
      h('p', {}, h('strong', {}, state.user.clinic.name), ' · Patient summary'),
      h('p', {}, `Printed ${dayAndTime(new Date())} by ${state.user.display_name}`)),
    safety.banner,
    h('div', { class: 'title-row' },
      h('h1', {}, patient.display_name),
      h('div', { class: 'actions no-print' },
        button('Print summary', () => window.print()),
        ['json', 'fhir', 'csv'].map((format) => h('a', {
          class: 'button', href: `/api/v1/patients/${id}/export?format=${format}`, download: '',
        }, `Export ${format === 'fhir' ? 'FHIR' : format.toUpperCase()}`)))),
    h('p', { class: 'hint' }, [
      patient.external_id ? `External id ${patient.external_id}. ` : '',
      `Time zone ${patient.timezone}. `,
      patient.enrolled ? 'Enrolled.' : 'Not enrolled yet.',
      patient.active ? '' : ' Deactivated: cannot sign in.',
    ].join('')),
    safety.printed,
    h('div', { class: 'outcomes' },
      summaries.map((summary) => outcomeSection(summary, byId[summary.instrument], sessions, words, entries))),
    chartLegend(),
    sessionsSection(id, sessions, summaries, byId, words, refresh),
    sideEffectsSection(sessions, words),
    entriesSection(id, entries, byId, summaries, words, refresh),
    madrsSection(id, byId.madrs, words, refresh),
    scheduleSection(id, detail.schedule, scales.filter((s) => s.rater === 'self' && s.kind !== 'quick_rating'), refresh),
    remindersSection(id, reminders, words, patient.timezone),
    patient.enrolled || !patient.active ? null : enrollmentSection(id, patient.display_name),
    accountSection(id, patient, refresh),
  );
  focusHeading(main);
}

/** The patient's reminder settings, which the clinician may change (the patient turns
 * reminders on for each of their devices themself). */
function remindersSection(id, settings, words, timezone) {
  const reach = settings.devices
    ? `Reminders reach ${plural(settings.devices, 'device', 'devices')} of the patient.`
    : 'No device of the patient gets reminders yet: the patient turns them on in Account → Reminders.';
  const section = reminderSettingsForm(`/patients/${id}/reminders`, settings, words.pre_session_reminders, {
    forPatient: false,
    intro: h('p', { class: 'hint' }, `${reach} Times are the patient's own (${timezone}).`),
  });
  section.classList.add('no-print'); // settings, not part of the printed summary
  return section;
}

/** The patient's resolved flags of the last 30 days, for the printed summary; null when the
 * server could not say (the summary then says so rather than "none"). */
async function recentlyResolved(id) {
  try {
    const since = Date.now() - RECENT_DAYS * 86400000;
    const flags = await allPages(`/flags?status=resolved&patient_id=${encodeURIComponent(id)}`);
    return flags.filter((flag) => new Date(flag.resolved_at).getTime() >= since).reverse();
  } catch {
    return null;
  }
}

/** Open flags as a banner above everything else, each with what raised it, its age and a
 * resolve form that works in place; and, for print only, the flags resolved lately (shown
 * under the patient's name). */
function safetyArea(openFlags, resolved, scales, name) {
  const area = h('div', { class: 'safety-area' });
  const printed = h('section', { class: 'print-only', 'aria-labelledby': 'flags-printed-title' });
  const open = [...openFlags];
  const recent = resolved ? [...resolved] : null;
  const draw = (notice) => {
    const overdue = open.filter((flag) => flag.overdue).length;
    show(area,
      open.length ? h('section', { class: 'flag-banner', 'aria-labelledby': 'flag-banner-title' },
        h('h2', { id: 'flag-banner-title' }, open.length === 1
          ? `Open safety flag for ${name}${overdue ? ': overdue' : ''}`
          : `${open.length} open safety flags for ${name}${overdue ? `, ${overdue} overdue` : ''}`),
        h('ol', {}, open.map((flag) => h('li', {}, openFlag(flag))))) : null,
      notice ? h('p', { class: 'notice no-print', role: 'status', tabindex: '-1' }, notice) : null);
    show(printed,
      h('h2', { id: 'flags-printed-title' }, 'Safety flags'),
      recent === null ? h('p', {}, `${open.length ? '' : 'No open safety flags. '}Resolved flags could not be loaded.`)
        : recent.length ? [
          open.length ? null : h('p', {}, 'No open safety flags.'),
          h('p', {}, `Resolved in the last ${RECENT_DAYS} days:`),
          h('ul', {}, recent.map((flag) => h('li', {},
            h('strong', {}, raisedByText(flag.raised_by, scales)), '. ', flagSource(flag, scales), ' ',
            flagAge(flag).textContent, flag.note ? ` Note: ${flag.note}` : '')))]
          : h('p', {}, `${open.length ? 'None' : 'No open safety flags, and none'} resolved in the last ${RECENT_DAYS} days.`));
  };
  const openFlag = (flag) => h('article', { class: 'flag-item', 'aria-labelledby': `banner-flag-${flag.id}` },
    h('h3', { id: `banner-flag-${flag.id}` }, raisedByText(flag.raised_by, scales)),
    h('p', {}, flagSource(flag, scales)),
    flagAge(flag),
    resolveFlagForm(flag, (answer) => {
      open.splice(open.findIndex((f) => f.id === flag.id), 1);
      if (recent) recent.unshift(answer);
      draw(open.length ? null : `The flag was resolved. ${name} has no open safety flags.`);
      const next = area.querySelector('#flag-banner-title, [role=status]');
      next.setAttribute('tabindex', '-1');
      next.focus();
      if (open.length) announce(`The flag was resolved. ${plural(open.length, 'flag is', 'flags are')} still open.`);
    }, name));
  draw();
  return { banner: area, printed };
}

/** A quick rating (mood_now): pre → post pairs per session; no figures, bands or lines. */
function quickRatingSection(summary, instrument, words) {
  const titleId = `outcome-${instrument.id}`;
  const pairs = ratingPairs(summary, words.treatments);
  return h('section', { class: `card outcome${pairs.length ? '' : ' no-print'}`, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, instrument.name),
    h('p', { class: 'hint' }, `“${instrument.items[0].text}” (${instrument.min} “${instrument.options[0].label}” to ${instrument.max} “${instrument.options[instrument.options.length - 1].label}”), asked before and a few hours after each session. A quick rating, not a scale: no baseline, response or remission.`),
    pairs.length
      ? pairChart({ title: `${instrument.name} before and after each session`, pairs, max: instrument.max })
      : h('p', {}, 'No quick ratings around a session yet.'));
}

const PRINTED_SCORES = 8; // the newest entries each scale's printed score table lists

/** How the charts are drawn, in words beside a sample of each line: on paper there is no
 * pointer to read a chart with. */
function chartLegend() {
  const key = (kind) => h('svg:svg', { class: 'legend-key', viewBox: '0 0 24 8', width: 24, height: 8, 'aria-hidden': 'true' },
    kind === 'session'
      ? h('svg:g', { class: 'session' }, h('svg:line', { x1: 12, x2: 12, y1: 0, y2: 8 }))
      : h('svg:line', { x1: 0, x2: 24, y1: 4, y2: 4, class: kind === 'trend' ? 'trend' : `ref ref-${kind}` }));
  return h('ul', { class: 'print-only chart-legend', 'aria-label': 'How the charts are drawn' },
    [['trend', 'Score (daily mean), lower is better'], ['baseline', 'Baseline'],
      ['response', 'Response threshold'], ['remission', 'Remission threshold'],
      ['session', 'Treatment session']].map(([kind, label]) => h('li', {}, key(kind), ` ${label}`)),
    h('li', {}, 'Shading: severity bands, lightest the least severe'));
}

/** The newest scores of one scale, for print: the charts' numbers, with their context. */
function scoreTable(instrument, entries, words) {
  const own = entries.filter((e) => e.instrument === instrument.id && !e.voided).reverse();
  if (!own.length) return null;
  const listed = own.slice(0, PRINTED_SCORES);
  return h('table', { class: 'print-only scores' },
    h('caption', {}, own.length > listed.length
      ? `${instrument.name}: newest ${listed.length} of ${own.length} scores` : `${instrument.name} scores`),
    h('thead', {}, h('tr', {}, ['Date', 'Score', 'Context'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, listed.map((entry) => h('tr', {},
      h('th', { scope: 'row' }, day(entry.taken_at)),
      h('td', {}, `${scoreText(entry.total)}${entry.severity ? ` ${entry.severity}` : ''}`),
      h('td', {}, labelOf(words.contexts, entry.context))))));
}

function outcomeSection(summary, instrument, sessions, words, entries) {
  if (instrument.kind === 'quick_rating') return quickRatingSection(summary, instrument, words);
  const titleId = `outcome-${instrument.id}`;
  const { thresholds } = summary;
  const missing = (value) => yesNo(value, summary.outcome_unavailable, words.outcome_unavailable);
  const rows = [
    ['Baseline', summary.baseline ? `${scoreText(summary.baseline.total)} (${summary.baseline.severity}), ${day(summary.baseline.taken_at)}; ${labelOf(words.baseline_rules, summary.baseline_rule)}` : 'none yet'],
    ['Latest', summary.latest ? `${scoreText(summary.latest.total)} (${summary.latest.severity}), ${day(summary.latest.taken_at)}` : 'none yet'],
    ['Change', changeText(summary.change, summary.percent_change) || 'n/a'],
    [`Response (≥ ${thresholds.response_percent} %)`, missing(summary.response)],
    [`Remission (≤ ${thresholds.remission_max})`, missing(summary.remission)],
    ['Reliable change', summary.reliable_change ? labelOf(words.reliable_change, summary.reliable_change) : 'n/a'],
  ];
  const lines = outcomeLines(summary, {
    baseline: 'Baseline',
    response: `${100 - thresholds.response_percent} % of baseline (response)`,
    remission: 'Remission',
  });
  // Every entry its own dot (a crisis 21 never hides in a day's mean); the line joins the
  // daily means.
  const trend = summary.daily.map((p) => ({ at: new Date(`${p.date}T12:00:00`), value: p.mean }));
  const points = entries.filter((e) => e.instrument === instrument.id && !e.voided).map((e) => ({
    at: new Date(e.taken_at), value: e.total,
    label: `${dayAndTime(e.taken_at)}: ${scoreText(e.total)}, ${e.severity}, ${labelOf(words.contexts, e.context).toLowerCase()}`,
  }));
  return h('section', { class: 'card outcome', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, instrument.name),
    summary.latest
      ? [h('dl', { class: 'figures' }, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
        h('p', { class: 'hint meanings' }, Object.values(outcomeMeanings(thresholds)).join(' ')),
        chart({
          title: `${instrument.name} scores, each entry a dot`, points, trend, sessions, treatments: words.treatments, lines, bands: instrument.bands, max: instrument.max,
          words: { points: 'Each dot is one entry; the line joins the daily means.' },
        }),
        scoreTable(instrument, entries, words)]
      : h('p', {}, 'No entries yet.'));
}

function sessionsSection(id, sessions, summaries, byId, words, refresh) {
  const pairs = {};
  for (const summary of summaries) {
    for (const pair of summary.sessions) {
      pairs[pair.session.id] = [...(pairs[pair.session.id] || []), { ...pair, instrument: byId[summary.instrument] }];
    }
  }
  const editing = h('div');
  const describePairs = (sessionId) => (pairs[sessionId] || []).filter((p) => p.pre || p.post.length).map((p) => h('p', {},
    `${p.instrument.name}: pre ${p.pre ? scoreText(p.pre.total) : '–'}, post ${p.post.length ? p.post.map((e) => scoreText(e.total)).join(', ') : '–'}`,
    p.delta === null ? '' : `, ${changeWords(p.delta)}`,
    p.overlapping_recall ? h('span', { class: 'overlap-mark' }, h('span', { 'aria-hidden': 'true' }, '*'),
      h('span', { class: 'visually-hidden' }, ' (recall periods overlap)')) : null));
  const overlapping = Object.values(pairs).flat().some((p) => p.overlapping_recall);
  const when = (s) => dayAndTime(s.started_at);
  return h('section', { class: 'card', 'aria-labelledby': 'sessions-title' },
    h('h2', { id: 'sessions-title' }, 'Treatment sessions'),
    sessions.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'sessions cards' },
      h('thead', {}, h('tr', {}, ['Date', 'Treatment', 'Dose', 'Status', 'Before and after', 'Notes'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col', class: 'no-print' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, sessions.map((s) => h('tr', { class: `session-${s.status}` },
        h('th', { scope: 'row' }, when(s)),
        h('td', { 'data-label': 'Treatment' }, labelOf(words.treatments, s.treatment)),
        h('td', { 'data-label': 'Dose' }, s.dose_mg === null ? '–' : `${s.dose_mg} mg`),
        h('td', { class: 'session-status', 'data-label': 'Status' }, statusBadge(s, words.session_statuses)),
        h('td', { class: 'wide-cell', 'data-label': 'Before and after' }, describePairs(s.id), reportLines(s, words)),
        h('td', { class: 'session-notes wide-cell', 'data-label': 'Notes' }, s.notes || '–'),
        h('td', { class: 'no-print row-buttons' }, h('div', { class: 'row-actions' },
          s.status === 'cancelled' ? null : h('a', {
            class: 'button', href: `#/monitoring?patient=${encodeURIComponent(id)}&session=${encodeURIComponent(s.id)}`,
            'aria-label': `${s.monitoring_recorded ? 'Monitoring record' : 'Record monitoring'} for the session of ${when(s)}`,
          }, 'Monitoring'),
          button('Edit', () => sessionForm(editing, id, s, words.treatments, refresh), { 'aria-label': `Edit the session of ${when(s)}` }),
          s.status === 'cancelled' || s.monitoring_recorded ? null
            : button('Cancel', () => cancelSession(editing, id, s, refresh), { 'aria-label': `Cancel the session of ${when(s)}` }))))))))
      : h('p', {}, 'No sessions yet.'),
    overlapping ? h('p', { class: 'hint' }, '* Before and after less than the recall window apart (14 days for PHQ-9 and GAD-7): the two answers look back over some of the same days, so the change understates or overstates the effect.') : null,
    h('div', { class: 'no-print' }, button('Add a session', () => sessionForm(editing, id, null, words.treatments, refresh))),
    editing);
}

/** The patient's after-session reports of one session, in words, for its row. */
function reportLines(session, words) {
  const level = (value) => labelOf(words.side_effect_levels, value);
  return (session.reports || []).map((report) => h('p', { class: 'report' },
    h('strong', {}, `Patient report, ${dayAndTime(report.taken_at)}: `),
    words.side_effects.map((e) => `${e.label.toLowerCase()} ${level(report.side_effects[e.value]).toLowerCase()}`).join(', '),
    report.note ? ` · “${report.note}”` : ''));
}

/** Side effects the patient reported, by session: one row per side effect, one column per
 * session (its latest report), oldest first, so that "dissociation by session" reads across. */
function sideEffectsSection(sessions, words) {
  const reported = sessions.filter((s) => (s.reports || []).length);
  const latest = (s) => s.reports[s.reports.length - 1];
  const level = (value) => labelOf(words.side_effect_levels, value);
  return h('section', { class: `card${reported.length ? '' : ' no-print'}`, 'aria-labelledby': 'side-effects-title' },
    h('h2', { id: 'side-effects-title' }, 'Side effects reported after sessions'),
    reported.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'side-effects' },
      h('caption', { class: 'visually-hidden' }, 'Side effects by session, as the patient reported them (0 none to 3 severe)'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Side effect'),
        reported.map((s) => h('th', { scope: 'col' }, day(s.started_at))))),
      h('tbody', {},
        words.side_effects.map((effect) => h('tr', {},
          h('th', { scope: 'row' }, effect.label),
          reported.map((s) => {
            const value = latest(s).side_effects[effect.value];
            return h('td', { class: `level-${value}` }, `${value} ${level(value).toLowerCase()}`);
          }))),
        h('tr', {},
          h('th', { scope: 'row' }, 'Note'),
          reported.map((s) => h('td', { class: 'report-note' }, latest(s).note || '–'))))))
      : h('p', {}, 'No after-session reports yet.'),
    h('p', { class: 'hint' }, 'Rated by the patient after each session: 0 none, 1 mild, 2 moderate, 3 severe. With several reports for a session, the latest is shown here; all are listed in the sessions table.'));
}

/** Planned, done or cancelled, in words; a cancelled one says when. */
function statusBadge(session, statuses) {
  const label = labelOf(statuses, session.status);
  if (session.status === 'cancelled') {
    return [h('span', { class: 'badge cancelled' }, label),
      h('span', { class: 'hint cancelled-on' }, `on ${day(session.cancelled_at)}`)];
  }
  return h('span', { class: `badge ${session.status}` }, label);
}

/** Asks before cancelling: a cancelled session stays cancelled. */
function cancelSession(container, id, session, refresh) {
  const message = h('div');
  const when = dayAndTime(session.started_at);
  const confirm = button('Yes, cancel this session', async () => {
    confirm.disabled = true;
    try {
      await api(`/patients/${id}/sessions/${session.id}`, { method: 'PATCH', body: { status: 'cancelled' } });
      await refresh();
    } catch (error) {
      confirm.disabled = false;
      const box = alertBox(errorMessage(error));
      box.tabIndex = -1;
      show(message, box);
      box.focus();
    }
  }, { class: 'danger' });
  show(container, h('div', { class: 'notice stack', role: 'group', 'aria-labelledby': 'cancel-title' },
    h('h3', { id: 'cancel-title' }, `Cancel the session of ${when}?`),
    h('p', {}, 'It stays in the list, marked cancelled, and cannot be restored (add a new session instead). Check-ins linked to it are linked to another session nearby, or to none.'),
    message,
    h('div', { class: 'actions' }, confirm, button('Keep it', () => show(container)))));
  confirm.focus();
}

function sessionForm(container, id, session, treatments, refresh) {
  const form = apiForm({
    method: session ? 'PATCH' : 'POST',
    path: session ? `/patients/${id}/sessions/${session.id}` : `/patients/${id}/sessions`,
    submitLabel: session ? 'Save session' : 'Add session',
    build: (data, filled) => {
      const dose = String(data.get('dose_mg')).trim();
      const notes = String(data.get('notes')).trim();
      const missing = unchosen(filled, ['treatment']);
      if (missing.length) throw new Incomplete('Choose the treatment given.', missing.map(([control]) => control));
      return {
        started_at: fromLocalInput(String(data.get('started_at'))),
        treatment: String(data.get('treatment')),
        dose_mg: dose === '' ? null : Number(dose),
        notes: notes === '' ? null : notes,
      };
    },
    done: refresh,
    children: [
      h('h3', {}, session ? 'Edit session' : 'Add a session'),
      field('Start', h('input', { name: 'started_at', type: 'datetime-local', value: localInput(session && session.started_at), required: true })),
      field('Treatment', select('treatment', choices(treatments), session ? session.treatment : null, 'Choose the treatment')),
      field('Dose in mg (optional)', h('input', { name: 'dose_mg', type: 'number', min: 0, step: 'any', inputmode: 'decimal', value: session && session.dose_mg !== null ? session.dose_mg : '' })),
      field('Notes (optional)', h('textarea', { name: 'notes', rows: 2, maxlength: 2000 }, session && session.notes ? session.notes : '')),
    ],
  });
  show(container, form);
  form.querySelector('input').focus();
}

function entriesSection(id, entries, byId, summaries, words, refresh) {
  const baselines = Object.fromEntries(summaries.map((s) => [s.instrument, s.baseline_rule === 1 && s.baseline ? s.baseline.id : null]));
  const message = h('div');
  const all = [...entries].reverse();
  const showAll = new URLSearchParams(location.hash.split('?')[1] || '').get('entries') === 'all';
  const newest = showAll ? all : all.slice(0, 20);
  const act = async (work) => {
    try {
      await work();
      await refresh();
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  };
  return h('section', { class: 'card no-print', 'aria-labelledby': 'entries-title' },
    h('h2', { id: 'entries-title' }, 'Entries'),
    message,
    newest.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'cards' },
      h('thead', {}, h('tr', {}, ['Taken', 'Questionnaire', 'Context', 'Total', 'Flags', 'Status'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, newest.map((entry) => {
        const instrument = byId[entry.instrument];
        const voidArea = h('div');
        return h('tr', { class: entry.voided ? 'voided' : null },
          h('th', { scope: 'row' }, dayAndTime(entry.taken_at)),
          h('td', { 'data-label': 'Questionnaire' }, instrument ? instrument.name : entry.instrument),
          h('td', { 'data-label': 'Context' }, labelOf(words.contexts, entry.context)),
          h('td', { 'data-label': 'Total' }, `${scoreText(entry.total)}${entry.severity ? ` (${entry.severity})` : ''}${entry.prorated ? ', prorated' : ''}`),
          h('td', { class: 'optional' }, entry.flags.length ? h('span', { class: 'badge flag' }, `flag: ${safetyItemsOf(entry, instrument)}`) : ''),
          h('td', { class: 'optional' }, entry.voided ? `voided: ${entry.void_reason}` : (baselines[entry.instrument] === entry.id ? 'baseline (set)' : '')),
          h('td', { class: 'no-print row-buttons' }, entry.voided ? '' : [
            instrument && instrument.kind === 'quick_rating' ? null : baselines[entry.instrument] === entry.id
              ? button('Clear baseline', () => act(() => api(`/patients/${id}/baseline/${entry.instrument}`, { method: 'DELETE' })))
              : button('Use as baseline', () => act(() => api(`/patients/${id}/baseline/${entry.instrument}`, { method: 'PUT', body: { entry_id: entry.id } })),
                { 'aria-label': `Use the entry of ${dayAndTime(entry.taken_at)} as ${instrument ? instrument.name : ''} baseline` }),
            button('Void', () => {
              show(voidArea, apiForm({
                path: `/patients/${id}/entries/${entry.id}/void`,
                submitLabel: 'Void entry',
                build: (data) => ({ reason: String(data.get('reason')) }),
                done: refresh,
                children: [field('Reason', h('textarea', { name: 'reason', rows: 2, required: true, maxlength: 2000 }))],
              }));
              voidArea.querySelector('textarea').focus();
            }, { 'aria-label': `Void the entry of ${dayAndTime(entry.taken_at)}` }),
            voidArea]));
      })))) : h('p', {}, 'No entries yet.'),
    all.length > newest.length
      ? h('p', { class: 'no-print' }, h('a', { href: `#/patient?id=${id}&entries=all` }, `Show all ${all.length} entries`))
      : null);
}

function madrsSection(id, madrs, words, refresh) {
  if (!madrs) return null;
  const ratings = madrs.items.map((item) => item.id);
  return h('section', { class: 'card no-print', 'aria-labelledby': 'madrs-title' },
    h('h2', { id: 'madrs-title' }, 'Enter a MADRS rating'),
    h('p', { class: 'hint' }, 'Every item starts unrated: choose a rating for each one, 0 included.'),
    apiForm({
      path: `/patients/${id}/entries`,
      submitLabel: 'Save MADRS',
      build: (data, form) => {
        const missing = unchosen(form, [...ratings, 'context']);
        if (missing.length) {
          const items = missing.filter(([control]) => control.name !== 'context');
          const parts = [
            items.length ? `choose a rating for ${items.length === 1 ? '' : `${items.length} items: `}${items.map(([, label]) => label).join(', ')}` : null,
            missing.length > items.length ? 'choose the context' : null,
          ].filter(Boolean);
          throw new Incomplete(`Not saved yet: ${parts.join('; and ')}.`, missing.map(([control]) => control));
        }
        const note = String(data.get('note')).trim();
        return {
          id: crypto.randomUUID(),
          instrument: 'madrs',
          answers: ratings.map((item) => Number(data.get(item))),
          taken_at: fromLocalInput(String(data.get('taken_at'))),
          context: String(data.get('context')),
          ...(note ? { note } : {}),
        };
      },
      done: refresh,
      className: 'stack madrs',
      children: [
        h('div', { class: 'grid' }, madrs.items.map((item) => field(item.text,
          select(item.id, madrs.options.map((o) => [o.value, o.label]), null, 'Not rated')))),
        field('Rated at', h('input', { name: 'taken_at', type: 'datetime-local', value: localInput(), required: true })),
        field('Context', select('context', choices(words.contexts), null, 'Choose the context')),
        field('Note (optional)', h('textarea', { name: 'note', rows: 2, maxlength: 2000 })),
      ],
    }));
}

function scheduleSection(id, schedule, selfRated, refresh) {
  const every = (instrument) => (schedule.instruments.find((i) => i.instrument === instrument) || {}).every_days;
  const row = (instrument, label) => h('div', { class: 'inline' },
    h('input', { type: 'checkbox', id: `use-${instrument}`, name: `use-${instrument}`, checked: Boolean(every(instrument)) }),
    h('label', { for: `use-${instrument}` }, label),
    h('label', { for: `every-${instrument}`, class: 'visually-hidden' }, `${label}: every how many days`),
    h('input', { type: 'number', id: `every-${instrument}`, name: `every-${instrument}`, min: 1, max: 365, value: every(instrument) || 14, inputmode: 'numeric' }),
    h('span', { 'aria-hidden': 'true' }, 'days'));
  return h('section', { class: 'card no-print', 'aria-labelledby': 'schedule-title' },
    h('h2', { id: 'schedule-title' }, 'Check-in schedule'),
    apiForm({
      method: 'PUT',
      path: `/patients/${id}/schedule`,
      submitLabel: 'Save schedule',
      build: (data) => ({
        instruments: selfRated.map((s) => s.id).filter((i) => data.get(`use-${i}`)).map((i) => ({
          instrument: i, every_days: Number(data.get(`every-${i}`)),
        })),
        pre_session: Boolean(data.get('pre_session')),
      }),
      done: refresh,
      children: [
        h('fieldset', {}, h('legend', {}, 'Routine check-ins, every'), selfRated.map((s) => row(s.id, s.name))),
        h('div', { class: 'inline' },
          h('input', { type: 'checkbox', id: 'pre_session', name: 'pre_session', checked: schedule.pre_session }),
          h('label', { for: 'pre_session' }, 'A PHQ-9 before each session, on session days')),
      ],
    }));
}

/** The patient's account: a reset code when they lost their password, and deactivation. */
function accountSection(id, patient, refresh) {
  const area = h('div', { 'aria-live': 'polite' });
  const message = h('div');
  const toggle = async () => {
    try {
      await api(`/patients/${id}/${patient.active ? 'deactivate' : 'activate'}`, { method: 'POST' });
      await refresh();
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  };
  return h('section', { class: 'card no-print', 'aria-labelledby': 'account-title' },
    h('h2', { id: 'account-title' }, 'Account'),
    message,
    patient.enrolled && patient.active ? [
      h('p', {}, 'A patient who lost their password signs in again with a reset code: it works once, and signs them out of every other device.'),
      button('Issue a reset code', async () => {
        try {
          show(area, enrollmentDetails(await api(`/patients/${id}/enrollment`, { method: 'POST' })));
        } catch (error) {
          show(area, alertBox(errorMessage(error)));
        }
      }),
      area,
    ] : null,
    h('p', {}, patient.active
      ? 'Deactivating signs the patient out everywhere and stops them signing in; their data stays.'
      : 'This patient is deactivated. Activating lets them sign in again.'),
    button(patient.active ? 'Deactivate' : 'Activate', toggle,
      { class: patient.active ? 'danger' : null, 'aria-label': `${patient.active ? 'Deactivate' : 'Activate'} ${patient.display_name}` }));
}

function enrollmentSection(id, name) {
  const area = h('div', { 'aria-live': 'polite' });
  return h('section', { class: 'card no-print', 'aria-labelledby': 'enrollment-title' },
    h('h2', { id: 'enrollment-title' }, 'Enrollment'),
    h('p', {}, 'Codes are shown once. Issue a new one to give it to the patient; the previous code stops working.'),
    button('Issue a new enrollment code', async () => {
      try {
        show(area, enrollmentDetails(await api(`/patients/${id}/enrollment`, { method: 'POST' }),
          { name, clinic: state.user.clinic.name }));
      } catch (error) {
        show(area, alertBox(errorMessage(error)));
      }
    }),
    area);
}
