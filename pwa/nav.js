// Navigation, shared by the router and the views (which never import the router).

const AGAIN = 'tidemark:navigate';

/** Show the screen at `hash`; the hash already shown is rendered afresh. */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new Event(AGAIN));
  else location.hash = hash;
}

/** The current route's name and parameters, from "#/name?key=value". */
export function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path, params: new URLSearchParams(query) };
}

/** Call `render` on every navigation, go() to the current hash included (the router's). */
export function onNavigate(render) {
  window.addEventListener('hashchange', render);
  window.addEventListener(AGAIN, render);
}
