// The outbox: a finished check-in is stored on the phone first, then sent.
// Sent again on load, on `online`, on `visibilitychange` and after each new entry. A network
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

/** This patient's queued and failed check-ins, oldest first. */
export async function items(patientId) {
  const rows = (await store.all('outbox')).filter((row) => row.patientId === patientId);
  return rows.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

/** Remove every check-in of this patient from the phone (at sign-out). */
export async function discardAll(patientId) {
  for (const row of await items(patientId)) await store.remove('outbox', row.id);
  changed();
}

/** Queue a finished check-in of this patient (only they will ever send it). */
export async function enqueue(body, patientId) {
  await store.put('outbox', {
    id: body.id,
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

/**
 * Send this patient's queued check-ins; resolves to {sent, queued, failed, needsSignIn}.
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
  const result = { sent: [], needsSignIn: false, offline: false };
  for (const item of await items(patientId)) {
    if (item.state !== 'queued') continue;
    try {
      // The patient named, not "me": a session of someone else gets 404, never their data.
      const entry = await api(`/patients/${item.patientId}/entries`, { method: 'POST', body: item.body });
      await store.remove('outbox', item.id);
      await remember(entry);
      result.sent.push(entry);
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
  changed({ sent: result.sent.length });
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
