// The outbox: what the patient sends is stored on the phone first, then sent. Three kinds: a
// finished check-in ("entry", a quick rating too), a safety signal ("signal": a positive safety
// answer, sent the moment it is given, before the check-in is finished) and an after-session
// report ("report", sent to its session). Items queued before signals existed have no kind:
// they are entries.
// Sent again on load, on `online`, on `visibilitychange` and after each new item. A network
// failure or a 5xx keeps it queued; a 4xx is shown to the patient. The server's idempotency
// (same id, same body → 200) makes every resend safe.

import { api, ApiError, NetworkError, errorMessage } from './api.js';
import * as store from './store.js';

const CHANGED = 'tidemark:outbox';
// Answers that mean "not now", not "never": the check-in stays queued.
const RETRY = new Set([408, 425, 429]);

export function onChange(listener) {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}

function changed(detail = {}) {
  window.dispatchEvent(new CustomEvent(CHANGED, { detail }));
}

const KINDS = {
  entry: { path: (item) => `/patients/${item.patientId}/entries`, keepalive: false },
  // The clinic must hear of it even if the patient closes the app while it is on its way.
  signal: { path: (item) => `/patients/${item.patientId}/safety-signals`, keepalive: true },
  report: {
    path: (item) => `/patients/${item.patientId}/sessions/${encodeURIComponent(item.sessionId)}/report`,
    keepalive: false,
  },
};

/** This patient's queued and failed items, each with its `kind`: signals first, then oldest first. */
export async function items(patientId) {
  const rows = (await store.all('outbox'))
    .filter((row) => row.patientId === patientId)
    .map((row) => ({ ...row, kind: row.kind || 'entry' }));
  const rank = (row) => (row.kind === 'signal' ? 0 : 1);
  return rows.sort((a, b) => rank(a) - rank(b) || a.queuedAt.localeCompare(b.queuedAt));
}

/** Remove everything this patient queued from the phone (at sign-out). */
export async function discardAll(patientId) {
  for (const row of await items(patientId)) await store.remove('outbox', row.id);
  changed();
}

/** Queue a finished check-in (or, with kind 'signal', a safety signal; with kind 'report', an
 * after-session report, whose `sessionId` goes in `extra`) of this patient (only they will
 * ever send it). */
export async function enqueue(body, patientId, kind = 'entry', extra = {}) {
  if (!(kind in KINDS)) throw new Error(`Unknown outbox kind: ${kind}`);
  if (kind === 'report' && !extra.sessionId) throw new Error('A report needs its session');
  await store.put('outbox', {
    ...extra,
    id: body.id,
    kind,
    patientId,
    body,
    state: 'queued',
    error: null,
    queuedAt: new Date().toISOString(),
  });
  changed();
}

export async function discard(id) {
  await store.remove('outbox', id);
  changed();
}

let running = null; // the pass under way
let again = null; // one more pass, for everyone who asked while `running` was under way
let againFor = null;
const reportedHere = new Set(); // sessions whose report this page has sent

/** Whether this page sent the after-session report of this session (while a copy of the
 * sessions read before the send may not show it yet). */
export function reportSent(sessionId) {
  return reportedHere.has(sessionId);
}

/**
 * Send this patient's queued items; resolves to {sent (entries), signals (the signals sent),
 * reports (the after-session reports sent), queued, failed, needsSignIn, offline}.
 * A pass under way may have read the queue before this call, or be failing on a network
 * that has since come back (`online`), so a call during a pass gets one more pass after it.
 */
export function flush(patientId) {
  if (!running) {
    const work = navigator.locks
      ? navigator.locks.request('tidemark-outbox', () => send(patientId))
      : send(patientId);
    running = work.finally(() => { running = null; });
    return running;
  }
  againFor = patientId; // whoever asked last is the one signed in now
  if (!again) {
    again = running.catch(() => {}).then(() => {
      again = null;
      return flush(againFor);
    });
  }
  return again;
}

async function send(patientId) {
  const result = { sent: [], signals: [], reports: [], needsSignIn: false, offline: false };
  for (const item of await items(patientId)) {
    if (item.state !== 'queued') continue;
    const kind = KINDS[item.kind];
    if (!kind) continue; // queued by a newer version of the app: left for it
    try {
      // The patient named, not "me": a session of someone else gets 404, never their data.
      const answer = await api(kind.path(item), {
        method: 'POST', body: item.body, keepalive: kind.keepalive,
      });
      // Known as reported before it leaves the queue: a screen that reads the queue and the
      // server's sessions, in either order, always finds it in one of them.
      if (item.kind === 'report') reportedHere.add(item.sessionId);
      await store.remove('outbox', item.id);
      if (item.kind === 'signal') {
        result.signals.push(item.body);
      } else if (item.kind === 'report') {
        result.reports.push(answer);
      } else {
        await remember(answer);
        result.sent.push(answer);
      }
    } catch (error) {
      if (error instanceof NetworkError || (error instanceof ApiError && RETRY.has(error.status))
        || (error instanceof ApiError && error.status >= 500)) {
        result.offline = error instanceof NetworkError;
        break; // stays queued; the next trigger tries again
      }
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        result.needsSignIn = true;
        break; // stays queued until the patient signs in again
      }
      await store.put('outbox', { ...item, state: 'failed', error: errorMessage(error) });
    }
  }
  const left = await items(patientId);
  changed({ sent: result.sent.length, signals: result.signals.length, reports: result.reports.length });
  return {
    ...result,
    queued: left.filter((i) => i.state === 'queued').length,
    failed: left.filter((i) => i.state === 'failed'),
  };
}

/** Keep a sent entry in the offline copy of the patient's recent entries. */
async function remember(entry) {
  const recent = (await store.cache.get('entries')) || { items: [], next_cursor: null };
  const others = recent.items.filter((e) => e.id !== entry.id);
  await store.cache.set('entries', { ...recent, items: [...others, entry].slice(-1000) });
}
