import { sparkline } from '../chart.js';
import { crisisResources, NOT_WATCHED } from '../crisis.js';
import { serverNow } from '../api.js';
import {
  bandOf, bandWords, day, labelOf, plural, scoreText, sessionLabel, sessionTime,
} from '../format.js';
import { currentRoute } from '../nav.js';
import * as outbox from '../outbox.js';
import {
  cachedGet, clinic, installPrompt, instruments, keepOfflineCopies, recentSafetyAnswer, state, vocabularies,
} from '../session.js';
import { button, focusHeading, h, show } from '../ui.js';

let stopWatching = null;
// Items were shown waiting on this visit of Home: once they are sent, the card says so.
let waitingShown = false;

export async function render(main) {
  document.title = 'Home · Tidemark';
  waitingShown = false;
  // The outbox may send while the cards are built (on reconnecting, at start): then they are
  // built again at once, or a report just sent would still be asked for.
  let movedMeanwhile = false;
  const watchBuild = outbox.onChange(() => { movedMeanwhile = true; });
  const { nodes, scales } = await build();
  watchBuild();
  show(main, nodes);
  if (stopWatching) stopWatching();
  // Sent after reconnecting, or back online: only the cards that changed are drawn again,
  // so that nothing the patient is reading jumps.
  const refresh = async (event) => {
    if (!main.isConnected || currentRoute().name !== '') return;
    const sent = (event && event.detail) || {};
    if (event && event.type !== 'online' && !sent.sent && !sent.reports && !sent.signals) {
      await renderOutbox(main.querySelector('[data-key=outbox]'), scales);
      return;
    }
    const fresh = await build();
    if (main.isConnected && currentRoute().name === '') patch(main, fresh.nodes);
  };
  const stop = outbox.onChange(refresh);
  window.addEventListener('online', refresh);
  stopWatching = () => { stop(); window.removeEventListener('online', refresh); };
  if (movedMeanwhile) refresh({ type: 'online' });
  keepOfflineCopies(scales); // every questionnaire's history, for offline
  focusHeading(main);
}

/** Home's cards, each keyed (data-key) so that a refresh redraws only what changed. */
async function build() {
  const me = state.user.patient_id;
  const [detail, summary, scales, words, sessions] = await Promise.all([
    cachedGet(`/patients/${me}`, 'patient'),
    cachedGet(`/patients/${me}/summary?instrument=phq9`, 'summary:phq9'),
    instruments(),
    vocabularies(),
    cachedGet(`/patients/${me}/sessions`, 'sessions'),
  ]);
  const phq9 = scales.find((i) => i.id === 'phq9');
  const rating = scales.find((i) => i.kind === 'quick_rating');
  const ratings = rating ? await cachedGet(`/patients/${me}/summary?instrument=${rating.id}`, `summary:${rating.id}`) : null;
  const queued = await outbox.items(me);
  const sessionList = ((sessions.data && sessions.data.items) || []).filter((s) => s.status !== 'cancelled');
  const status = h('section', { class: 'card', 'aria-labelledby': 'outbox-title' });
  await renderOutbox(status, scales);
  // Offered now, it comes first; otherwise it waits below the check-ins.
  const quick = rating ? ratingSection(rating, sessionList, ratings.data, queued) : null;
  const checkedIn = Boolean((summary.data && (summary.data.latest || summary.data.baseline))
    || queued.some((i) => i.kind === 'entry'));
  const cards = {
    hello: h('h1', { tabindex: '-1' }, `Hello, ${state.user.display_name}`), // as focused: equal when redrawn
    offline: detail.fromCache || summary.fromCache
      ? h('p', { class: 'notice' }, 'You are offline: this is what was saved on this phone.')
      : null,
    help: recentSafetyAnswer() ? helpCard() : null,
    outbox: status,
    report: reportSection(sessionList, queued, words.treatments),
    offer: quick && quick.offered ? quick.card : null,
    due: dueSection(detail.data, scales, words.contexts),
    latest: latestSection(summary.data, phq9),
    next: nextSessionSection(sessions.data, words.treatments),
    install: checkedIn ? installCard() : null,
    rating: quick && !quick.offered ? quick.card : null,
  };
  const nodes = Object.entries(cards).filter(([, node]) => node).map(([key, node]) => {
    node.dataset.key = key;
    return node;
  });
  return { nodes, scales };
}

/** Put `nodes` in `main`, keeping every card that is the same as the one shown. */
function patch(main, nodes) {
  const shown = new Map([...main.children].map((node) => [node.dataset.key, node]));
  const kept = nodes.map((node) => {
    const old = shown.get(node.dataset.key);
    return old && old.isEqualNode(node) ? old : node;
  });
  for (const old of shown.values()) if (!kept.includes(old)) old.remove();
  kept.forEach((node, index) => {
    if (main.children[index] !== node) main.insertBefore(node, main.children[index] || null);
  });
}

async function renderOutbox(section, scales) {
  const items = await outbox.items(state.user.patient_id);
  const queued = items.filter((i) => i.state === 'queued');
  const queuedEntries = queued.filter((i) => i.kind === 'entry' || i.kind === 'report');
  const queuedSignals = queued.filter((i) => i.kind === 'signal');
  const failed = items.filter((i) => i.state === 'failed');
  if (!items.length) {
    section.hidden = !waitingShown;
    show(section, waitingShown
      ? [h('h2', { id: 'outbox-title' }, '✓ Sent'), h('p', { class: 'saved' }, 'What waited on this phone has reached your care team.')]
      : []);
    return;
  }
  waitingShown = true;
  section.hidden = false;
  const describe = (item) => {
    if (item.kind === 'signal') return `Your answer to ${questionOf(scales, item.body)}`;
    if (item.kind === 'report') return `Your after-session report from ${day(item.body.taken_at)}`;
    return `${nameOf(scales, item.body.instrument)} from ${day(item.body.taken_at)}`;
  };
  show(section,
    h('h2', { id: 'outbox-title' }, 'Waiting to be sent'),
    queuedEntries.length
      ? h('p', { role: 'status', class: 'saved' },
        `${plural(queuedEntries.length, 'check-in is', 'check-ins are')} saved on this phone and will be sent when you are online.`)
      : null,
    queuedEntries.length ? h('ul', {}, queuedEntries.map((item) => h('li', {}, describe(item)))) : null,
    // A safety answer sent ahead of its check-in: named as such, not as a mysterious check-in.
    queuedSignals.map((item) => h('p', { class: 'saved' },
      `${describe(item)}, waiting to be sent: it goes to your care team as soon as your phone is online.`)),
    failed.map((item) => {
      const box = h('div', { class: 'alert', role: 'alert' },
        h('p', {}, `${describe(item)} could not be sent: ${item.error}`),
        h('p', {}, 'Please tell your care team about it. Removing it deletes these answers.'));
      box.append(button('Remove it from this phone', () => {
        const confirm = button('Yes, delete these answers', async () => {
          await outbox.discard(item.id);
          focusHeading(section.closest('main') || document.getElementById('main'));
        }, { class: 'danger' });
        box.append(confirm);
        confirm.focus();
      }));
      return box;
    }),
  );
}

const HOUR = 3600000;
// Home asks "How was your session?" for this long after a session started.
const REPORT_OFFER_HOURS = 48;

/** "How was your session?" after the latest session of the last two days, until reported. */
function reportSection(sessions, queued, treatments) {
  const now = serverNow().getTime();
  const recent = sessions.filter((s) => {
    const since = now - new Date(s.started_at).getTime();
    return since >= 0 && since <= REPORT_OFFER_HOURS * HOUR;
  }).pop();
  if (!recent) return null;
  const reported = (recent.reports || []).length || outbox.reportSent(recent.id)
    || queued.some((i) => i.kind === 'report' && i.sessionId === recent.id);
  if (reported) return null;
  return h('section', { class: 'card offer', 'aria-labelledby': 'report-title' },
    h('h2', { id: 'report-title' }, 'How was your session?'),
    h('p', {}, `${sessionLabel(recent, treatments)}. Five short questions about side effects, and a note if you like.`),
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: `#/report?session=${encodeURIComponent(recent.id)}` }, 'Tell us how it went')));
}

/** The quick rating: offered before a session that starts soon and a few hours after one
 * (the instrument's `offered` hours), unless already rated; else the patient may pick. */
function ratingSection(rating, sessions, summary, queued) {
  const now = serverNow().getTime();
  const { offered } = rating;
  const pairs = Object.fromEntries(((summary && summary.sessions) || []).map((p) => [p.session.id, p]));
  const waiting = queued.filter((i) => i.kind === 'entry' && i.body.instrument === rating.id);
  const ratedAround = (session, context) => {
    const start = new Date(session.started_at).getTime();
    const pair = pairs[session.id];
    if (pair && (context === 'pre_session' ? pair.pre : pair.post.length)) return true;
    return waiting.some((i) => {
      const at = new Date(i.body.taken_at).getTime();
      return i.body.context === context && (context === 'pre_session'
        ? at <= start && start - at <= offered.before_hours * HOUR
        : at >= start && at - start <= offered.after_max_hours * HOUR);
    });
  };
  const upcoming = sessions.find((s) => {
    const ahead = new Date(s.started_at).getTime() - now;
    return ahead > 0 && ahead <= offered.before_hours * HOUR && !ratedAround(s, 'pre_session');
  });
  const after = sessions.filter((s) => {
    const since = now - new Date(s.started_at).getTime();
    return since >= offered.after_min_hours * HOUR && since <= offered.after_max_hours * HOUR;
  }).pop();
  const offer = upcoming ? 'pre_session' : (after && !ratedAround(after, 'post_session') ? 'post_session' : null);
  const link = (context, label, primary) => h('a', {
    class: `button${primary ? ' primary' : ''}`, href: `#/rating?context=${context}`,
  }, label);
  const card = h('section', { class: `card${offer ? ' offer' : ''}`, 'aria-labelledby': 'rating-title' },
    h('h2', { id: 'rating-title' }, 'Quick rating'),
    offer === 'pre_session'
      ? h('p', {}, `Your session starts at ${timeOf(upcoming.started_at)}. How low do you feel right now? One tap, before it starts.`)
      : null,
    offer === 'post_session'
      ? h('p', {}, 'A few hours after your session: how low do you feel right now? One tap, to compare with before.')
      : null,
    offer ? null : h('p', {}, 'Before or after a session: how low do you feel right now? One tap.'),
    h('div', { class: 'actions' },
      offer
        ? link(offer, offer === 'pre_session' ? 'Rate before my session' : 'Rate after my session', true)
        : [link('pre_session', 'Before my session'), link('post_session', 'After my session')]));
  return { card, offered: Boolean(offer) };
}

/** "10:00" today, "Thursday 10:00" on another day. */
function timeOf(value) {
  const date = new Date(value);
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { weekday: 'long' })} ${time}`;
}

const CHECK_IN_NAMES = { phq9: 'Mood check-in', gad7: 'Anxiety check-in' };

/** One button per questionnaire: the one due (before today's session first) is the primary. */
function dueSection(detail, scales, contexts) {
  const now = new Date();
  const due = (detail && detail.due) || [];
  const dueNow = due.filter((d) => d.context === 'pre_session' || new Date(d.due_at) <= now);
  const first = dueNow.find((d) => d.context === 'pre_session') || dueNow[0];
  const next = due.find((d) => !dueNow.includes(d));
  const own = scales.filter((i) => i.rater === 'self' && i.kind !== 'quick_rating');
  const link = (instrument, primary) => h('a', {
    class: `button${primary ? ' primary' : ''}`,
    // Before a session is the schedule's own word; otherwise the check-in works it out.
    href: `#/checkin?instrument=${instrument.id}${primary && first.context === 'pre_session' ? '&context=pre_session' : ''}`,
  }, CHECK_IN_NAMES[instrument.id] ? `${CHECK_IN_NAMES[instrument.id]} (${instrument.name})` : `${instrument.name} check-in`);
  const firstScale = first && own.find((i) => i.id === first.instrument);
  return h('section', { class: 'card', 'aria-labelledby': 'due-title' },
    h('h2', { id: 'due-title' }, firstScale ? 'Due now' : 'Check in'),
    h('p', {}, firstScale
      ? `${firstScale.name}, ${labelOf(contexts, first.context, 'due_label')}. It takes about two minutes.`
      : `Nothing is due${next ? `. Next check-in: ${day(next.due_at)}` : ''}. You may check in whenever you like.`),
    h('div', { class: 'actions' },
      firstScale ? link(firstScale, true) : null,
      own.filter((i) => i !== firstScale).map((i) => link(i, false))));
}

/** The next planned session (never a cancelled one), in the patient's local time; nothing
 * when none is planned. Offline, a saved list may be old: a session already started is past. */
function nextSessionSection(sessions, treatments) {
  const now = new Date();
  const ahead = ((sessions && sessions.items) || [])
    .filter((s) => s.status === 'planned' && new Date(s.started_at) > now)
    .sort((a, b) => new Date(a.started_at) - new Date(b.started_at));
  if (!ahead.length) return null;
  const next = ahead[0];
  return h('section', { class: 'card next-session', 'aria-labelledby': 'next-session-title' },
    h('h2', { id: 'next-session-title' }, `Your next session: ${sessionTime(next.started_at, now)}`),
    h('p', { class: 'hint' }, `${labelOf(treatments, next.treatment)}, ${day(next.started_at)}.`));
}

function latestSection(summary, phq9) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'latest-title' },
    h('h2', { id: 'latest-title' }, 'Your latest mood score'));
  // The latest follow-up; a first check-in is the baseline itself.
  const latest = summary && (summary.latest || summary.baseline);
  if (!latest || !phq9) {
    section.append(h('p', {}, 'No check-ins yet. Your scores will show here.'));
    return section;
  }
  const band = latest.severity || bandOf(phq9, latest.total);
  const words = bandWords(band);
  section.append(
    h('p', { class: 'score' },
      h('span', { class: 'big' }, scoreText(latest.total)),
      ` out of ${phq9.max}: ${words}`),
    h('p', { class: 'hint' }, `PHQ-9 on ${day(latest.taken_at)}. Scores go from 0 to ${phq9.max}: lower is better.`),
    h('p', { class: 'change' }, changeWords(summary)),
  );
  const outcome = outcomeWords(summary);
  if (outcome) section.append(outcome);
  const weekly = (summary.weekly || []).slice(-8);
  if (weekly.length > 1) {
    section.append(h('div', { class: 'trend-row' },
      sparkline(weekly.map((w) => w.mean), phq9.max,
        `Weekly average over the last ${weekly.length} weeks: from ${weekly[0].mean} to ${weekly[weekly.length - 1].mean}.`),
      h('p', { class: 'hint', 'aria-hidden': 'true' }, `Weekly average, last ${weekly.length} weeks`)));
  }
  section.append(h('p', {}, h('a', { href: '#/history' }, 'See your history')));
  return section;
}

/** "20 → 16 since you started: ↓ 4 points, 20 % better": arrows and words, never signs. */
function changeWords(summary) {
  const { baseline, latest, change } = summary;
  if (!baseline || !latest || change === null || change === undefined) {
    return 'This is your starting score. Check in again to see how it changes.';
  }
  const from = `${scoreText(baseline.total)} → ${scoreText(latest.total)} since you started: `;
  if (change === 0) return `${from}no change`;
  const way = change > 0 ? 'better' : 'worse';
  const size = Math.abs(change);
  const points = `${change > 0 ? '↓' : '↑'} ${scoreText(size)} ${size === 1 ? 'point' : 'points'}`;
  const percent = summary.percent_change;
  return percent === null || percent === undefined
    ? `${from}${points} ${way}`
    : `${from}${points}, ${Math.round(Math.abs(percent))} % ${way}`;
}

/** Response and remission, said with what they mean, where they apply. */
function outcomeWords(summary) {
  const { thresholds } = summary;
  if (!thresholds) return null;
  if (summary.remission) {
    return h('p', { class: 'outcome' }, `That is remission: a score of ${thresholds.remission_max} or lower, few or no symptoms.`);
  }
  if (summary.response) {
    return h('p', { class: 'outcome' }, `That is a response: at least ${thresholds.response_percent} % better than when you started.`);
  }
  return null;
}

const INSTALL_KEY = 'tidemark-install-hint';

/** After a first check-in: keep Tidemark on the home screen (never once dismissed, nor when
 * it already runs from there). */
function installCard() {
  const installed = matchMedia('(display-mode: standalone)').matches || navigator.standalone;
  if (installed || localStorage.getItem(INSTALL_KEY) === 'dismissed') return null;
  const prompt = installPrompt();
  const card = h('section', { class: 'card', 'aria-labelledby': 'install-title' },
    h('h2', { id: 'install-title' }, 'Keep Tidemark on your home screen'),
    h('p', {}, prompt
      ? 'It then opens like an app, offline too.'
      : /iPhone|iPad/.test(navigator.userAgent)
        ? 'It then opens like an app, offline too: in Safari, tap Share, then “Add to Home Screen”.'
        : 'It then opens like an app, offline too: in your browser’s menu, choose “Install app” or “Add to Home screen”.'));
  const done = () => {
    localStorage.setItem(INSTALL_KEY, 'dismissed');
    card.remove();
    focusHeading(document.getElementById('main'));
  };
  card.append(h('div', { class: 'actions' },
    prompt ? button('Add to home screen', () => prompt.prompt().then(done, () => {}), { class: 'primary' }) : null,
    button('Not now', done)));
  return card;
}

/** Home keeps the clinic's numbers at hand for a day after a positive safety answer. */
function helpCard() {
  return h('section', { class: 'card help-card', 'aria-labelledby': 'help-card-title' },
    h('h2', { id: 'help-card-title' }, 'Help is there if you need it'),
    h('p', {}, 'You recently told us about thoughts of being better off dead or of hurting yourself. If you feel unsafe, or want to talk to someone, reach out now.'),
    crisisResources(clinic()),
    h('p', {}, NOT_WATCHED),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/help' }, 'Get help now')));
}

/** "question 9 of the PHQ-9", from the instrument's own items. */
function questionOf(scales, body) {
  const instrument = scales.find((i) => i.id === body.instrument);
  const number = instrument ? instrument.items.findIndex((item) => item.id === body.item) + 1 : 0;
  const name = instrument ? instrument.name : body.instrument;
  return number ? `question ${number} of the ${name}` : `a question of the ${name}`;
}

function nameOf(scales, id) {
  const instrument = scales.find((i) => i.id === id);
  return instrument ? instrument.name : id;
}
