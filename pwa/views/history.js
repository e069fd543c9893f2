import { chart, outcomeLines, pairChart } from '../chart.js';
import {
  bandOf, bandWords, day, dayAndTime, labelOf, ratingPairs, scoreText, sessionLabel,
} from '../format.js';
import { cachedGet, instruments, state, vocabularies } from '../session.js';
import { focusHeading, h, show } from '../ui.js';

export async function render(main, params) {
  const scales = (await instruments()).filter((i) => i.rater === 'self');
  const instrument = scales.find((i) => i.id === params.get('instrument')) || scales[0];
  const scale = params.get('by') === 'week' ? 'week' : 'day';
  const asTable = params.get('view') === 'table';
  const me = state.user.patient_id;
  const [summary, sessions, entries, words] = await Promise.all([
    cachedGet(`/patients/${me}/summary?instrument=${instrument.id}`, `summary:${instrument.id}`),
    cachedGet(`/patients/${me}/sessions`, 'sessions'),
    instrument.kind === 'quick_rating' ? null : entriesOf(me, instrument.id),
    vocabularies(),
  ]);
  document.title = `History · ${instrument.name} · Tidemark`;
  const data = summary.data;
  const link = (changes) => {
    const next = new URLSearchParams({ instrument: instrument.id, by: scale, view: asTable ? 'table' : 'chart', ...changes });
    return `#/history?${next}`;
  };
  const toggle = (label, href, pressed) => h('a', { class: 'button toggle', href, 'aria-current': pressed ? 'true' : null }, label);
  const head = [h('h1', {}, 'Your history'),
    summary.fromCache || (entries && entries.fromCache) ? h('p', { class: 'notice' }, 'You are offline: this is what was saved on this phone.') : null,
    h('nav', { class: 'toggles', 'aria-label': 'Questionnaire' },
      scales.map((s) => toggle(s.name, link({ instrument: s.id }), s.id === instrument.id)))];
  if (instrument.kind === 'quick_rating') {
    show(main, head, quickRatings(instrument, data, words.treatments, asTable));
    focusHeading(main);
    return;
  }

  // One dot per entry (a 21 beside a 12 that day shows as 21); the line joins the means.
  const series = !data ? [] : (scale === 'week' ? data.weekly : data.daily).map((point) => {
    const date = scale === 'week' ? point.week_start : point.date;
    const band = bandOf(instrument, point.mean);
    const when = scale === 'week' ? `Week of ${day(date)}` : day(date);
    return {
      at: new Date(`${date}T12:00:00`), date: when, value: point.mean, n: point.n, band,
    };
  });
  const dot = (at, value, band, when, more) => ({
    at, value, label: `${when}: ${scoreText(value)}, ${bandWords(band)}`,
    text: `${scoreText(value)} out of ${instrument.max}, ${bandWords(band)}. ${more}.`,
  });
  const points = entries.map((e) => dot(new Date(e.taken_at), e.total, e.severity, dayAndTime(e.taken_at),
    `${longDate(e.taken_at)}. ${labelOf(words.contexts, e.context)}`));
  // Offline with no copy of the entries (only the summary was kept): the means stand in.
  if (!points.length) points.push(...series.map((p) => dot(p.at, p.value, p.band, p.date, `${p.date}, average of ${p.n}`)));
  const lines = outcomeLines(data, {
    baseline: (v) => `Where you started: ${v}`,
    response: (v) => `${v} or lower: your score has halved, called a “response”`,
    remission: (v) => `${v} or lower: few or no symptoms left, called “remission”`,
  });
  const sessionList = (sessions.data && sessions.data.items) || [];

  show(main, head,
    h('nav', { class: 'toggles', 'aria-label': 'Line through' },
      toggle('Days', link({ by: 'day' }), scale === 'day'),
      toggle('Weeks', link({ by: 'week' }), scale === 'week'),
      toggle(asTable ? 'Show chart' : 'Show table', link({ view: asTable ? 'chart' : 'table' }), false)),
    asTable
      ? table(instrument, series, scale)
      : chart({
        title: `${instrument.name} scores, each check-in a dot`,
        points,
        trend: series,
        sessions: sessionList,
        treatments: words.treatments,
        lines,
        bands: instrument.bands,
        max: instrument.max,
        words: {
          points: `Each dot is one check-in; the line joins your ${scale === 'week' ? 'weekly' : 'daily'} averages.`,
        },
      }),
    recentList(instrument, points),
  );
  focusHeading(main);
}

/** Quick ratings as before → after pairs per session: no bands, no response line. */
function quickRatings(instrument, summary, treatments, asTable) {
  const pairs = ratingPairs(summary, treatments);
  const toggle = h('nav', { class: 'toggles', 'aria-label': 'View' },
    h('a', { class: 'button toggle', href: `#/history?instrument=${instrument.id}${asTable ? '' : '&view=table'}` },
      asTable ? 'Show chart' : 'Show table'));
  const low = instrument.options[0];
  const high = instrument.options[instrument.options.length - 1];
  const intro = h('p', {}, `“${instrument.items[0].text}” From ${low.value} “${low.label}” to ${high.value} “${high.label}”. Each session shows your quick rating before it and a few hours after: lower after means you felt less low.`);
  if (!pairs.length) {
    return [intro, h('p', {}, 'No quick ratings around a session yet. Home offers one before your next session and again a few hours after it.')];
  }
  const view = asTable
    ? h('table', {},
      h('caption', {}, 'Quick ratings, before and after each session'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Session'), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'))),
      h('tbody', {}, pairs.slice().reverse().map((p) => h('tr', {},
        h('th', { scope: 'row' }, sessionLabel(p.session, treatments)),
        h('td', {}, p.pre === null ? '–' : String(p.pre)),
        h('td', {}, p.post === null ? '–' : String(p.post))))))
    : pairChart({ title: 'Quick ratings before and after each session', pairs, max: instrument.max });
  return [intro, toggle, view,
    h('ul', { class: 'legend' },
      h('li', { class: 'key-pre' }, 'Open circle: before the session'),
      h('li', { class: 'key-post' }, 'Filled circle: a few hours after')),
    h('p', { class: 'hint' }, 'A quick rating is how you feel at one moment, not a score of depression.')];
}

function table(instrument, series, scale) {
  if (!series.length) return h('p', {}, 'No scores yet.');
  return h('table', {},
    h('caption', {}, `${instrument.name} by ${scale}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, scale === 'week' ? 'Week' : 'Date'),
      h('th', { scope: 'col' }, 'Score'),
      h('th', { scope: 'col' }, 'Band'),
      h('th', { scope: 'col' }, 'Check-ins'))),
    h('tbody', {}, series.map((p) => h('tr', {},
      h('th', { scope: 'row' }, p.date),
      h('td', {}, String(p.value)),
      h('td', {}, p.band),
      h('td', {}, String(p.n))))));
}

function recentList(instrument, points) {
  if (!points.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'recent-title' },
    h('h2', { id: 'recent-title' }, `Your last ${instrument.name} check-ins`),
    h('ul', { class: 'plain' }, points.slice(-10).reverse().map((p) => h('li', {}, p.text))));
}

function longDate(value) {
  return new Date(value).toLocaleString(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** Every counted entry of one instrument, oldest first, page by page (each kept for offline). */
async function entriesOf(me, instrument) {
  const items = [];
  let answer = { data: {} };
  for (let page = 0; page < 20 && answer.data && (!page || answer.data.next_cursor); page += 1) {
    const cursor = page ? `&cursor=${encodeURIComponent(answer.data.next_cursor)}` : '';
    answer = await cachedGet(`/patients/${me}/entries?instrument=${instrument}&limit=1000${cursor}`, `entries:${instrument}:${page}`);
    items.push(...((answer.data && answer.data.items) || []));
    items.fromCache = items.fromCache || answer.fromCache;
  }
  return Object.assign(items.filter((e) => !e.voided), { fromCache: items.fromCache });
}
