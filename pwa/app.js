// Tidemark PWA: session, router and the things every view shares.

import { api, ApiError, NetworkError, errorMessage, hasCsrf, setCsrf } from './api.js';
import { cache, clear } from './store.js';
import * as outbox from './outbox.js';
import { announce, focusHeading, h, show } from './ui.js';

export const state = {
  user: null,
  offline: !navigator.onLine,
  instruments: null,
};

const ROUTES = {
  '': () => import('./views/home.js'),
  signin: () => import('./views/signin.js'),
  enroll: () => import('./views/enroll.js'),
  checkin: () => import('./views/checkin.js'),
  history: () => import('./views/history.js'),
  data: () => import('./views/data.js'),
  panel: () => import('./views/panel.js'),
  flags: () => import('./views/flags.js'),
  patient: () => import('./views/patient.js'),
  admin: () => import('./views/admin.js'),
};
const PUBLIC = new Set(['signin', 'enroll']);
const PATIENT_VIEWS = new Set(['', 'checkin', 'history', 'data']);
const CLINICIAN_VIEWS = new Set(['panel', 'flags', 'patient', 'admin']);

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** The current route's name and parameters, from "#/name?key=value". */
export function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path, params: new URLSearchParams(query) };
}

let routing = 0;

/** Render the route into a fresh frame, shown only if no later navigation overtook it. */
export async function route() {
  const ticket = ++routing;
  let { name, params } = currentRoute();
  const pageCode = new URLSearchParams(location.search).get('code');
  if (!state.user && pageCode && name !== 'enroll') name = 'enroll';
  if (!state.user && !PUBLIC.has(name)) name = 'signin';
  if (state.user && PUBLIC.has(name)) name = '';
  if (state.user && state.user.role === 'clinician' && !CLINICIAN_VIEWS.has(name)) name = 'panel';
  if (state.user && state.user.role === 'patient' && !PATIENT_VIEWS.has(name)) name = '';
  if (!(name in ROUTES)) name = '';
  document.body.classList.toggle('wide', Boolean(state.user && state.user.role === 'clinician'));
  const main = document.getElementById('main');
  const frame = h('div', { class: 'frame' });
  try {
    const view = await ROUTES[name]();
    if (ticket !== routing) return;
    renderNav(name);
    await view.render(frame, params);
  } catch (error) {
    if (ticket !== routing) return;
    if (error instanceof ApiError && error.status === 401) {
      await sessionEnded();
      return;
    }
    show(frame, errorView(error));
  }
  if (ticket !== routing) return; // a slower screen never replaces a newer one
  main.replaceChildren(frame);
  focusHeading(frame);
}

function errorView(error) {
  const offline = error instanceof NetworkError || !navigator.onLine;
  return h('section', { class: 'stack' },
    h('h1', {}, offline ? 'You are offline' : 'This screen could not be loaded'),
    h('p', { role: 'alert' }, offline
      ? 'Connect to the internet and try again. Anything you saved on this phone is kept.'
      : errorMessage(error)),
    h('button', { type: 'button', class: 'primary', onclick: () => route() }, 'Try again'));
}

/** The server no longer knows this session: keep unsent check-ins, ask to sign in again. */
export async function sessionEnded() {
  state.user = null;
  setCsrf(null);
  await cache.clear();
  go('#/signin?expired=1');
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  if (!state.user) {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  const items = state.user.role === 'patient'
    ? [['', 'Home'], ['history', 'History'], ['data', 'My data']]
    : [['panel', 'Patients'], ['flags', 'Safety flags'], ['admin', state.user.is_admin ? 'Clinic admin' : 'Account']];
  nav.hidden = false;
  show(nav, h('ul', {}, items.map(([name, label]) => h('li', {},
    h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : null }, label)))));
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
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  const patientId = state.user && state.user.patient_id;
  state.user = null;
  setCsrf(null);
  clearDrafts();
  await clear('cache');
  if (patientId) await outbox.discardAll(patientId);
  go('#/signin');
}

export function clearDrafts() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith('tidemark-draft-')) sessionStorage.removeItem(key);
  }
}

/** The questionnaires, from the API when online, else from this phone's copy. */
export async function instruments() {
  if (state.instruments) return state.instruments;
  try {
    const answer = await api('/instruments');
    state.instruments = answer.items;
    await cache.set('instruments', answer.items);
  } catch (error) {
    if (!unreachable(error)) throw error;
    const saved = await cache.get('instruments');
    if (!saved) throw error;
    state.instruments = saved;
  }
  return state.instruments;
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

export async function flushOutbox() {
  if (!state.user || state.user.role !== 'patient') return null;
  if (!hasCsrf()) {
    // Opened offline: the session's CSRF token comes with /auth/me once we are online.
    await loadSession();
    if (!state.user || !hasCsrf()) return null;
  }
  const result = await outbox.flush(state.user.patient_id);
  if (result.sent.length) announce(`${result.sent.length} saved check-in${result.sent.length > 1 ? 's' : ''} sent.`);
  if (result.needsSignIn && navigator.onLine) {
    // The session ended while check-ins waited: they stay queued for after sign-in.
    const still = await api('/auth/me').catch((error) => error);
    if (still instanceof ApiError && still.status === 401) await sessionEnded();
  }
  return result;
}

function showNetwork() {
  state.offline = !navigator.onLine;
  document.getElementById('network').hidden = !state.offline;
}

async function loadSession() {
  try {
    const answer = await api('/auth/me');
    setCsrf(answer.csrf_token);
    state.user = answer.user;
    await cache.set('me', answer.user);
  } catch (error) {
    if (unreachable(error)) {
      state.user = (await cache.get('me')) || null; // offline: the last signed-in user
    } else if (error instanceof ApiError && error.status === 401) {
      state.user = null;
    } else {
      throw error;
    }
  }
}

async function boot() {
  showNetwork();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  // Back online: send what waits; the screen stays as it is (a half-typed form is kept).
  window.addEventListener('online', () => { showNetwork(); flushOutbox(); });
  window.addEventListener('offline', showNetwork);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flushOutbox();
  });
  window.addEventListener('hashchange', route);
  document.querySelector('.skip').addEventListener('click', (event) => {
    event.preventDefault(); // the hash is the router's: move focus, do not navigate
    focusHeading(document.getElementById('main'));
  });
  await loadSession();
  await route();
  await flushOutbox();
}

boot();
