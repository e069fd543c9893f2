// Who is signed in on this phone, and what the phone keeps for them: the session, the
// offline copies of API answers (instruments, the patient's own data) and the outbox's sends.

import { api, ApiError, NetworkError, hasCsrf, setCsrf } from './api.js';
import { go } from './nav.js';
import * as outbox from './outbox.js';
import { cache, clear } from './store.js';
import { announce, h } from './ui.js';

export const state = {
  user: null,
  instruments: null,
  vocabularies: null,
};

/** Ask the server who is signed in; offline, the last signed-in user of this phone. */
export async function loadSession() {
  try {
    const answer = await api('/auth/me');
    setCsrf(answer.csrf_token);
    state.user = answer.user;
    await cache.set('me', answer.user);
  } catch (error) {
    if (unreachable(error)) {
      state.user = (await cache.get('me')) || null;
    } else if (error instanceof ApiError && error.status === 401) {
      state.user = null;
    } else {
      throw error;
    }
  }
}

export async function signedIn(answer) {
  setCsrf(answer.csrf_token);
  const previous = await cache.get('me');
  if (previous && previous.id !== answer.user.id) {
    await cache.clear(); // never show one person's saved data to another
  }
  clearDrafts();
  state.user = answer.user;
  await cache.set('me', answer.user);
  if (location.search) history.replaceState(null, '', `${location.pathname}#/`);
  flushOutbox();
}

/** Sign out on the server, then remove this person's data from the phone. Throws if the
 * server could not be reached or refused, so that nothing is removed while still signed in. */
export async function signOut() {
  const patientId = state.user && state.user.patient_id;
  // What waits in the outbox (a safety signal above all) goes before it would be removed.
  if (patientId && hasCsrf()) await outbox.flush(patientId).catch(() => null);
  // This patient's reminders stop coming to this browser (someone else may sign in here).
  // (push.js is loaded only now: a first visit and the offline app do without it.)
  if (patientId && hasCsrf()) {
    await import('./push.js').then(({ forgetThisBrowser }) => forgetThisBrowser()).catch(() => null);
  }
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  state.user = null;
  setCsrf(null);
  clearDrafts();
  await clear('cache');
  if (patientId) {
    localStorage.removeItem(safetyAnswerKey(patientId));
    await outbox.discardAll(patientId);
  }
  go('#/signin');
}

/** The server no longer knows this session: keep unsent check-ins, ask to sign in again. */
export async function sessionEnded() {
  state.user = null;
  setCsrf(null);
  await cache.clear();
  go('#/signin?expired=1');
}

function clearDrafts() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith('tidemark-draft-')) sessionStorage.removeItem(key);
  }
}

// After a positive safety answer, Home keeps a help card for this long (issue 9).
const HELP_CARD_HOURS = 24;
const safetyAnswerKey = (patientId) => `tidemark-safety-answer-${patientId}`;

/** Note on this phone, for this patient, that they just gave a positive safety answer. */
export function rememberSafetyAnswer(at = new Date()) {
  localStorage.setItem(safetyAnswerKey(state.user.patient_id), at.toISOString());
}

/** Whether this patient gave a positive safety answer on this phone in the last 24 hours. */
export function recentSafetyAnswer(now = new Date()) {
  const at = Date.parse(localStorage.getItem(safetyAnswerKey(state.user.patient_id)) || '');
  if (Number.isNaN(at)) return false;
  return (now - at) / 3600000 < HELP_CARD_HOURS;
}

/** The signed-in patient's clinic: {id, name, crisis}, from the cached user when offline. */
export function clinic() {
  return (state.user && state.user.clinic) || {};
}

/** Keep the newest crisis settings of the clinic (GET /clinic) with the cached user. */
export async function keepClinic(fresh) {
  if (!state.user || !fresh) return;
  state.user = { ...state.user, clinic: { ...state.user.clinic, ...fresh } };
  await cache.set('me', state.user);
}

/** The questionnaires, from the API when online, else from this phone's copy. */
export const instruments = () => kept('instruments', '/instruments', (answer) => answer.items);

/** The labels of the API's values (contexts, treatments, sorts ...), kept like instruments. */
export const vocabularies = () => kept('vocabularies', '/vocabularies', (answer) => answer);

/** What the app reads once per load: from the API, else from this phone's copy. */
async function kept(name, path, pick) {
  if (state[name]) return state[name];
  try {
    state[name] = pick(await api(path));
    await cache.set(name, state[name]);
  } catch (error) {
    if (!unreachable(error)) throw error;
    const saved = await cache.get(name);
    if (!saved) throw error;
    state[name] = saved;
  }
  return state[name];
}

/** GET from the API and keep a copy; offline, answer the copy. */
export async function cachedGet(path, key = path) {
  try {
    const answer = await api(path);
    await cache.set(key, answer);
    return { data: answer, fromCache: false };
  } catch (error) {
    if (!unreachable(error)) throw error;
    return { data: await cache.get(key), fromCache: true };
  }
}

/** Offline, or the server (or a proxy before it) failing: use what the phone has. */
function unreachable(error) {
  return error instanceof NetworkError || (error instanceof ApiError && error.status >= 500);
}

/** Send the signed-in patient's queued items; resolves to the outbox's result, or null. */
export async function flushOutbox() {
  if (!state.user || state.user.role !== 'patient') return null;
  if (!hasCsrf()) {
    // Opened offline: the session's CSRF token comes with /auth/me once we are online.
    await loadSession();
    if (!state.user || !hasCsrf()) return null;
  }
  const result = await outbox.flush(state.user.patient_id);
  const sent = result.sent.length + result.reports.length;
  if (sent) {
    announce(`${sent} saved check-in${sent > 1 ? 's' : ''} sent.`);
    showSent();
  }
  if (result.needsSignIn && navigator.onLine) {
    // The session ended while check-ins waited: they stay queued for after sign-in.
    const still = await api('/auth/me').catch((error) => error);
    if (still instanceof ApiError && still.status === 401) await sessionEnded();
  }
  return result;
}

/** Say on `status` where the queued item `id` is: sent, refused (an alert), or waiting on
 * the phone and why (`result`: the last flush's). True once it has left the phone. */
export async function sayWhereQueued(status, id, result) {
  const stillHere = (await outbox.items(state.user.patient_id)).find((i) => i.id === id);
  if (!stillHere) {
    status.textContent = 'Sent to your care team.';
    return true;
  }
  if (stillHere.state === 'failed') {
    status.textContent = `Not sent: ${stillHere.error}`;
    status.setAttribute('role', 'alert');
  } else if (result && result.needsSignIn) {
    status.textContent = 'Saved on this phone. Sign in again to send it.';
  } else {
    status.textContent = 'Saved on this phone. It will be sent when you are online.';
  }
  return false;
}

let sentTimer = null;

/** "✓ Sent" floating at the foot of the screen for a few seconds (announced apart, in #live). */
function showSent() {
  let note = document.getElementById('sent');
  if (!note) {
    note = h('p', { id: 'sent', class: 'sent-strip', 'aria-hidden': 'true' }, '✓ Sent to your care team');
    document.querySelector('.bar').after(note);
  }
  note.hidden = false;
  clearTimeout(sentTimer);
  sentTimer = setTimeout(() => { note.hidden = true; }, 8000);
}

let offlineCopiesAt = 0;

/** Keep an offline copy of every questionnaire's history (and the recent entries), so that
 * History shows them offline even if never opened online; at most every ten minutes. */
export function keepOfflineCopies(scales) {
  if (!navigator.onLine || Date.now() - offlineCopiesAt < 600000) return;
  offlineCopiesAt = Date.now();
  const me = state.user.patient_id;
  // The entries History reads: the last 90 days, under the same key.
  const since = new Date(Date.now() - 90 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
  const copies = scales.filter((i) => i.rater === 'self')
    .map((i) => cachedGet(`/patients/${me}/summary?instrument=${i.id}`, `summary:${i.id}`));
  copies.push(cachedGet(`/patients/${me}/entries?since=${encodeURIComponent(since)}&limit=1000`, 'entries'));
  Promise.all(copies).catch(() => { offlineCopiesAt = 0; });
}

let deferredInstall = null;

/** The browser's own install prompt, when it offered one (Chrome, Edge, Android). */
export const installPrompt = () => deferredInstall;

/** Show the network state, and send what waits whenever the phone is back online or the app
 * comes back to the screen; the screen stays as it is (a half-typed form is kept). */
export function watchConnection() {
  const showNetwork = () => {
    document.getElementById('network').hidden = navigator.onLine;
  };
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault(); // offered on Home after a first check-in, not at once
    deferredInstall = event;
  });
  showNetwork();
  window.addEventListener('online', () => { showNetwork(); flushOutbox(); });
  window.addEventListener('offline', showNetwork);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flushOutbox();
  });
}
