// Tidemark PWA: the router. It picks the screen for the hash and the signed-in role, renders
// it into a fresh frame, and starts the app; the session lives in session.js.

import { ApiError, NetworkError, errorMessage } from './api.js';
import { currentRoute, onNavigate } from './nav.js';
import { flushOutbox, loadSession, sessionEnded, signOut, state, watchConnection } from './session.js';
import { alertBox, focusHeading, h, show } from './ui.js';

const ROUTES = {
  '': () => import('./views/home.js'),
  signin: () => import('./views/signin.js'),
  enroll: () => import('./views/enroll.js'),
  reset: () => import('./views/reset.js'),
  account: () => import('./views/account.js'),
  checkin: () => import('./views/checkin.js'),
  rating: () => import('./views/rating.js'),
  report: () => import('./views/report.js'),
  history: () => import('./views/history.js'),
  data: () => import('./views/data.js'),
  help: () => import('./views/help.js'),
  panel: () => import('./views/panel.js'),
  flags: () => import('./views/flags.js'),
  patient: () => import('./views/patient.js'),
  admin: () => import('./views/admin.js'),
  passkeys: () => import('./views/passkeys.js'),
  monitoring: () => import('./views/monitoring.js'),
  reminders: () => import('./views/reminders.js'),
};
const PUBLIC = new Set(['signin', 'enroll', 'reset']);
const PATIENT_VIEWS = new Set(['', 'checkin', 'rating', 'report', 'history', 'data', 'help', 'account', 'passkeys', 'reminders']);
const CLINICIAN_VIEWS = new Set(['panel', 'flags', 'patient', 'monitoring', 'admin', 'passkeys']);

// A code from a link (`/#code=…` to enroll, `/#reset=…` to set a new password) travels in the
// fragment, which the browser never sends to a server. It is taken off the address and the
// history at once, and kept here for the screen that needs it.
const LINKED = { code: 'enroll', reset: 'reset' };
let linkedCode = null;

function takeLinkedCode() {
  const match = /^#(code|reset)=([A-Za-z0-9-]{1,64})$/.exec(location.hash);
  // Links issued before codes moved to the fragment: `/?code=…`.
  const old = new URLSearchParams(location.search).get('code');
  if (!match && !old) return;
  linkedCode = match ? { name: LINKED[match[1]], code: match[2] } : { name: 'enroll', code: old };
  history.replaceState(null, '', `${location.pathname}#/${linkedCode.name}`);
}

let routing = 0;
const LOADING_AFTER_MS = 150;
// A new version of the app took this page over (its service worker skips waiting): the
// modules this page has not loaded yet would come from the new version and mix with the old
// ones, so the next screen loads the whole app afresh (drafts and the outbox are kept).
let replaced = false;

/** Render the route into a fresh frame, shown only if no later navigation overtook it. */
async function route() {
  if (replaced) {
    location.reload();
    return;
  }
  const ticket = ++routing;
  takeLinkedCode();
  let { name, params } = currentRoute();
  if (linkedCode && name === linkedCode.name) params = new URLSearchParams({ code: linkedCode.code });
  if (!state.user && !PUBLIC.has(name)) name = 'signin';
  if (state.user && PUBLIC.has(name)) name = '';
  if (state.user && state.user.role === 'clinician' && !CLINICIAN_VIEWS.has(name)) name = 'panel';
  if (state.user && state.user.role === 'patient' && !PATIENT_VIEWS.has(name)) name = '';
  if (!(name in ROUTES)) name = '';
  document.body.classList.toggle('wide', Boolean(state.user && state.user.role === 'clinician'));
  renderHelpLink(name); // before the screen loads: help stays in reach if a screen fails
  renderSignOut();
  const main = document.getElementById('main');
  const frame = h('div', { class: 'frame' });
  // A screen that takes a moment replaces the old one with "Loading…" (never the old one
  // left standing as if nothing had been tapped).
  const loading = setTimeout(() => {
    if (ticket !== routing) return;
    main.setAttribute('aria-busy', 'true');
    show(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  }, LOADING_AFTER_MS);
  try {
    if (state.user && state.user.role === 'clinician') await clinicianStyles();
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
  clearTimeout(loading);
  if (ticket !== routing) return; // a slower screen never replaces a newer one
  main.removeAttribute('aria-busy');
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

function renderNav(current) {
  const nav = document.getElementById('nav');
  if (!state.user) {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  const items = state.user.role === 'patient'
    ? [['', 'Home'], ['history', 'History'], ['data', 'My data'], ['account', 'Account']]
    : [['panel', 'Patients'], ['flags', 'Safety flags'], ['admin', state.user.is_admin ? 'Clinic admin' : 'Account']];
  nav.hidden = false;
  show(nav, h('ul', {}, items.map(([name, label]) => h('li', {},
    h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : null }, label)))));
}

/** "Get help now" in the header of every patient screen, never tucked into a menu. */
function renderHelpLink(current) {
  let link = document.getElementById('help-now');
  if (!(state.user && state.user.role === 'patient')) {
    if (link) link.remove();
    return;
  }
  if (!link) {
    link = h('a', { id: 'help-now', class: 'help-now', href: '#/help' }, 'Get help now');
    document.querySelector('.bar').append(link);
    ROUTES.help().catch(() => {}); // loaded now, so that it opens offline even without the cache
  }
  if (current === 'help') link.setAttribute('aria-current', 'page');
  else link.removeAttribute('aria-current');
}

let clinicianSheet = null;

/** The clinician's own stylesheet, added once and waited for (a patient never loads it). */
function clinicianStyles() {
  if (!clinicianSheet) {
    clinicianSheet = new Promise((resolve) => {
      const link = h('link', { rel: 'stylesheet', href: '/clinician.css' });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve); // unstyled beats unusable
      document.head.append(link);
    });
  }
  return clinicianSheet;
}

/** "Sign out" in the header of every clinician screen (a shared computer at the clinic). */
function renderSignOut() {
  let control = document.getElementById('sign-out');
  if (!(state.user && state.user.role === 'clinician')) {
    if (control) control.remove();
    return;
  }
  if (control) return;
  control = h('button', { id: 'sign-out', type: 'button', class: 'sign-out' }, 'Sign out');
  control.addEventListener('click', async () => {
    control.disabled = true;
    try {
      await signOut();
    } catch (error) {
      control.disabled = false;
      const box = alertBox(`You are still signed in: ${errorMessage(error)}`);
      box.tabIndex = -1;
      document.getElementById('main').prepend(box);
      box.focus();
    }
  });
  document.querySelector('.bar').append(control);
}

async function boot() {
  watchConnection();
  if ('serviceWorker' in navigator) {
    let controller = navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (controller) replaced = true; // not the first install claiming this page
      controller = navigator.serviceWorker.controller;
    });
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  onNavigate(route);
  // A page brought back from the back-forward cache shows what it showed when left: ask the
  // server again who is signed in (after a sign-out, nobody), and draw the screen afresh.
  window.addEventListener('pageshow', async (event) => {
    if (!event.persisted) return;
    await loadSession();
    await route();
  });
  document.querySelector('.skip').addEventListener('click', (event) => {
    event.preventDefault(); // the hash is the router's: move focus, do not navigate
    focusHeading(document.getElementById('main'));
  });
  await loadSession();
  await route();
  await flushOutbox();
}

boot();
