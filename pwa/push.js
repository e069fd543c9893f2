// Reminders by web push on this browser: whether they can work here, turning them on (the
// permission prompt, then the subscription the server sends to) and off, and the card that
// offers them after a check-in. Shared by the check-in and the reminder settings screen.

import { api } from './api.js';
import { button, h, show } from './ui.js';

const SUBSCRIPTIONS = '/patients/me/push-subscriptions';
// "Not now" on the offer: asked again after this many days, never before.
const NOT_NOW_DAYS = 30;
const notNowKey = (patientId) => `tidemark-reminders-not-now-${patientId}`;

function isIos() {
  const ua = navigator.userAgent;
  // iPadOS presents itself as a Mac; a Mac has no touch screen.
  return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
}

function standalone() {
  return window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
}

/** Where reminders stand on this browser: 'on', 'ask' (not asked yet, or turned off here),
 * 'blocked' (notifications refused in the browser's settings), 'home-screen' (an iPhone or
 * iPad, where only an app added to the Home Screen may notify) or 'unsupported'. */
export async function pushStatus() {
  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (isIos() && !standalone()) return 'home-screen';
  if (!supported) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  if (Notification.permission !== 'granted') return 'ask';
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = registration && await registration.pushManager.getSubscription();
  return subscription ? 'on' : 'ask';
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(`${base64}${'='.repeat((4 - (base64.length % 4)) % 4)}`);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const mine = new Uint8Array(buffer);
  return mine.length === bytes.length && mine.every((b, i) => b === bytes[i]);
}

/** Subscribe this browser with the server's key and give the subscription to the server. */
async function subscribeHere() {
  const registration = await navigator.serviceWorker.ready;
  const { public_key: publicKey } = await api('/push/key');
  const key = keyBytes(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe(); // made for another key: the server could not sign for it
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }
  await api(SUBSCRIPTIONS, { method: 'POST', body: subscription.toJSON() });
}

/** Ask for permission (only ever from a tap) and subscribe; resolves to pushStatus(). */
export async function turnOn() {
  const permission = await Notification.requestPermission();
  if (permission === 'granted') await subscribeHere();
  return pushStatus();
}

/** Stop reminders on this browser: the server forgets it, then the browser does. */
export async function turnOff() {
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = registration && await registration.pushManager.getSubscription();
  if (!subscription) return;
  await api(SUBSCRIPTIONS, { method: 'DELETE', body: { endpoint: subscription.endpoint } });
  await subscription.unsubscribe();
}

/** On sign-out: this patient's reminders stop coming to this browser, on the server and in
 * the browser (the next person to sign in here is asked for themself). Best effort: never
 * holds the sign-out back. */
export async function forgetThisBrowser() {
  try {
    if (!('serviceWorker' in navigator)) return;
    const registration = await navigator.serviceWorker.getRegistration();
    const subscription = registration && registration.pushManager && await registration.pushManager.getSubscription();
    if (!subscription) return;
    await api(SUBSCRIPTIONS, { method: 'DELETE', body: { endpoint: subscription.endpoint } });
    await subscription.unsubscribe();
  } catch {
    // offline or signed out already: the server drops it when the push service says it is gone
  }
}

/** Reminders are on in this browser: make sure the server still has its subscription (it
 * forgets one a push service called gone; the browser may have renewed it). */
export async function resendSubscription() {
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = registration && await registration.pushManager.getSubscription();
  if (subscription) await api(SUBSCRIPTIONS, { method: 'POST', body: subscription.toJSON() });
}

/** The card after a check-in that offers `patientId` reminders, or null when there is
 * nothing to offer (on already, refused in the browser, unsupported, or "Not now" lately). */
export async function reminderOffer(patientId) {
  // Asked even when this browser allows notifications already (someone else may have
  // allowed them here): each patient says yes for themself.
  const status = await pushStatus();
  if (status !== 'ask' && status !== 'home-screen') return null;
  const saidNotNow = Date.parse(localStorage.getItem(notNowKey(patientId)) || '');
  if (!Number.isNaN(saidNotNow) && Date.now() - saidNotNow < NOT_NOW_DAYS * 86400000) return null;

  const card = h('section', { class: 'card reminder-offer', 'aria-labelledby': 'offer-title' });
  const notNow = () => {
    localStorage.setItem(notNowKey(patientId), new Date().toISOString());
    show(card, h('p', { role: 'status', tabindex: '-1' },
      'No reminders for now. You can turn them on any time in Account → Reminders.'));
    card.firstChild.focus();
  };
  if (status === 'home-screen') {
    show(card,
      h('h2', { id: 'offer-title' }, 'Get a reminder when a check-in is due'),
      h('p', {}, 'On an iPhone or iPad, reminders work only when Tidemark is on your Home Screen:'),
      h('ol', {},
        h('li', {}, 'Tap the Share button (the square with an arrow) at the bottom of Safari.'),
        h('li', {}, 'Choose "Add to Home Screen", then "Add".'),
        h('li', {}, 'Open Tidemark from your Home Screen and sign in. We will ask about reminders after your next check-in.')),
      h('div', { class: 'actions' }, button('Not now', notNow)));
    return card;
  }
  const result = h('div', { 'aria-live': 'polite' });
  show(card,
    h('h2', { id: 'offer-title' }, 'Get a reminder when a check-in is due?'),
    h('p', {}, 'We can send a notification to this device when your next check-in is due, before a planned session, and the morning after one. It never shows your answers or scores.'),
    h('p', {}, 'Your browser will ask you to allow notifications. You can change the times or turn reminders off in Account → Reminders.'),
    result,
    h('div', { class: 'actions' },
      button('Turn on reminders', async () => {
        const after = await turnOn().catch(() => 'failed');
        if (after === 'on') {
          show(card, h('p', { role: 'status', tabindex: '-1', class: 'saved' },
            'Reminders are on. You will get one when your next check-in is due.'));
          card.firstChild.focus();
        } else if (after === 'blocked') {
          show(result, h('p', { class: 'alert', role: 'alert' },
            'Notifications are blocked for Tidemark in this browser\'s settings, so reminders cannot be shown.'));
        } else {
          show(result, h('p', { class: 'alert', role: 'alert' },
            'Reminders could not be turned on here. You can try again later in Account → Reminders.'));
        }
      }, { class: 'primary' }),
      button('Not now', notNow)));
  return card;
}
