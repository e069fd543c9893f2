// The API, same origin, with the session cookie and the CSRF header on unsafe requests.

let csrfToken = null;

export function setCsrf(token) {
  csrfToken = token;
}

export const hasCsrf = () => csrfToken !== null;

// The server's clock minus ours, from its Date header: a phone whose clock runs fast would
// otherwise stamp check-ins "in the future" and have them refused.
let clockSkew = 0;

export function serverNow() {
  return new Date(Date.now() + (Math.abs(clockSkew) > 60000 ? clockSkew : 0));
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export class NetworkError extends Error {}

/** Call the API; `keepalive` lets a send outlive the page (a patient closing the app). */
export async function api(path, { method = 'GET', body, keepalive = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  const serverDate = Date.parse(response.headers.get('Date') || '');
  if (!Number.isNaN(serverDate)) clockSkew = serverDate - Date.now();
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every page of a list endpoint. */
export async function allPages(path) {
  const items = [];
  let cursor = null;
  do {
    const joiner = path.includes('?') ? '&' : '?';
    const answer = await api(`${path}${joiner}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
  } while (cursor);
  return items;
}

// The API's field names in the words of the app's labels, for errors shown away from the form
// field they belong to ("Password: …", never "password: …").
const FIELD_WORDS = {
  password: 'Password',
  new_password: 'New password',
  current_password: 'Current password',
  email: 'Email',
  display_name: 'Name',
  name: 'Name',
  external_id: 'External id',
  timezone: 'Time zone',
  code: 'Code',
  note: 'Note',
  reason: 'Reason',
  started_at: 'Start',
  dose_mg: 'Dose',
  taken_at: 'Time',
  expires_in_days: 'Valid for',
};

/** "Crisis line phone" for "crisis crisis_line phone"; a known name as its label. */
function fieldWords(path) {
  const parts = path.split(/[ .]/).filter(Boolean);
  const last = parts[parts.length - 1];
  if (FIELD_WORDS[last]) return FIELD_WORDS[last];
  const words = [...new Set(parts.flatMap((part) => part.split('_')))].join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Plain words for an error, with every field the server named (by its label). */
export function errorMessage(error) {
  if (error instanceof NetworkError) return 'You seem to be offline. Try again when you are connected.';
  if (!(error instanceof ApiError)) return 'Something went wrong.';
  const parts = [];
  if (error.body && error.body.message) parts.push(error.body.message);
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      parts.push(`${path ? `${fieldWords(path)}: ` : ''}${value.join(' ')}`);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        walk(inner, ['json', 'query', '_schema'].includes(key) ? path : (path ? `${path} ${key}` : key));
      }
    }
  };
  if (error.body && error.body.errors) walk(error.body.errors, '');
  if (!parts.length) parts.push(`The server answered ${error.status}.`);
  return parts.join(' ');
}
