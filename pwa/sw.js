// Service worker: the app shell, precached by version, served offline. Never caches /api/.
// The patient's views are precached; the clinician's, and the screens that need the server
// anyway (an enrollment or reset code, the account's password and devices, reminders and
// push.js, which subscribes through the server), load from the network.

const VERSION = '__SHELL_VERSION__';
const PREFIX = 'tidemark-shell-';
const CACHE = `${PREFIX}${VERSION}`;
const SHELL = [
  '/',
  '/style.css',
  '/app.js',
  '/nav.js',
  '/session.js',
  '/api.js',
  '/store.js',
  '/outbox.js',
  '/format.js',
  '/ui.js',
  '/chart.js',
  '/crisis.js',
  '/passkey.js',
  '/views/home.js',
  '/views/signin.js',
  '/views/checkin.js',
  '/views/rating.js',
  '/views/report.js',
  '/views/history.js',
  '/views/data.js',
  '/views/help.js',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      // 'no-cache': revalidated by ETag, so a file the page has just loaded costs a 304, not
      // its bytes again, and a changed one is fetched whole: never a stale copy.
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith(PREFIX) && name !== CACHE).map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // patient data: network only, never cached
  if (request.mode === 'navigate') {
    // Any page of the app (also "/?code=…"): the cached shell, so it opens offline.
    event.respondWith(caches.match('/', { cacheName: CACHE }).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(
    caches.match(request, { cacheName: CACHE, ignoreSearch: true }).then((hit) => hit || fetch(request)),
  );
});

// A reminder from the server (web push): {title, body, url}, never a score or an answer.
self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  event.waitUntil(self.registration.showNotification(message.title || 'Tidemark', {
    body: message.body || 'You have a reminder from your care team.',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    tag: message.url || 'tidemark', // a second reminder for the same screen replaces the first
    data: { url: message.url || '/#/' },
  }));
});

/** The app's own address for a notification's url (never another site's). */
function appUrl(url) {
  const target = new URL(url || '/#/', self.location.origin);
  return target.origin === self.location.origin ? target.href : new URL('/#/', self.location.origin).href;
}

/** Open what the notification is about: in the app's window if one is open (focused and
 * taken there), else in a new one. The click handler's whole work, kept apart for tests. */
async function openFromNotification(notification) {
  const url = appUrl(notification.data && notification.data.url);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    const shown = await open.navigate(url).catch(() => null);
    if (shown) {
      await shown.focus().catch(() => {});
      return shown;
    }
  }
  return self.clients.openWindow(url);
}
self.openFromNotification = openFromNotification;

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});
