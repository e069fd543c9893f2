// Tidemark PWA: session, router and the things every view shares.

import { api, ApiError, NetworkError, hasCsrf, setCsrf } from './api.js';
import { cache, clear } from './store.js';
import * as outbox from './outbox.js';
import { announce, h, show } from './ui.js';

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
  const view = await ROUTES[name]();
  if (ticket !== routing) return;
  renderNav(name);
  const main = document.getElementById('main');
  await view.render(main, params);
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
  state.user = answer.user;
  await cache.set('me', answer.user);
  if (location.search) history.replaceState(null, '', `${location.pathname}#/`);
  flushOutbox();
}

export async function signOut() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  state.user = null;
  setCsrf(null);
  await clear('cache');
  await clear('outbox');
  go('#/signin');
}

/** The questionnaires, from the API when online, else from this phone's copy. */
export async function instruments() {
  if (state.instruments) return state.instruments;
  try {
    const answer = await api('/instruments');
    state.instruments = answer.items;
    await cache.set('instruments', answer.items);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    state.instruments = (await cache.get('instruments')) || [];
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
    if (!(error instanceof NetworkError)) throw error;
    return { data: await cache.get(key), fromCache: true };
  }
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
    if (error instanceof NetworkError) {
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
  window.addEventListener('online', () => { showNetwork(); flushOutbox().then(() => route()); });
  window.addEventListener('offline', showNetwork);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flushOutbox();
  });
  window.addEventListener('hashchange', route);
  await loadSession();
  await route();
  await flushOutbox();
}

boot();
