// Passkeys (WebAuthn) in the browser: the API's options in, the browser's credential out, with
// the binary fields as base64url both ways (plain JS: no library).

import { api } from './api.js';

/** Whether this browser can use passkeys at all. */
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials);
}

/** base64url text to bytes. */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes (an ArrayBuffer or a view of one) to base64url text, without padding. */
export function toBase64url(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIds = (descriptors) => (descriptors || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));

/** A credential as JSON for the API (what PublicKeyCredential.toJSON() gives). */
function credentialJSON(credential) {
  const answer = credential.response;
  const response = { clientDataJSON: toBase64url(answer.clientDataJSON) };
  if (answer.attestationObject) {
    response.attestationObject = toBase64url(answer.attestationObject);
    response.transports = typeof answer.getTransports === 'function' ? answer.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(answer.authenticatorData);
    response.signature = toBase64url(answer.signature);
    response.userHandle = answer.userHandle ? toBase64url(answer.userHandle) : null;
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || null,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/** Register a new passkey for the signed-in person, named `name`: {id, name, created_at, ...}. */
export async function registerPasskey(name) {
  const options = await api('/auth/passkeys/registration/options', { method: 'POST' });
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: fromBase64url(options.challenge),
      user: { ...options.user, id: fromBase64url(options.user.id) },
      excludeCredentials: withIds(options.excludeCredentials),
    },
  });
  return api('/auth/passkeys', { method: 'POST', body: { name, credential: credentialJSON(credential) } });
}

/** Sign in with one of this person's passkeys: the same {user, csrf_token} as password sign-in. */
export async function signInWithPasskey() {
  const options = await api('/auth/passkey-login/options', { method: 'POST' });
  const credential = await navigator.credentials.get({
    publicKey: {
      ...options,
      challenge: fromBase64url(options.challenge),
      allowCredentials: withIds(options.allowCredentials),
    },
  });
  return api('/auth/passkey-login', { method: 'POST', body: { credential: credentialJSON(credential) } });
}

/** Plain words for a browser's refusal (the person closed the prompt, no passkey here ...). */
export function ceremonyMessage(error) {
  if (error && error.name === 'NotAllowedError') return 'The passkey prompt was closed or timed out. Try again.';
  if (error && error.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
  if (error && error.name === 'SecurityError') return 'Passkeys need a secure connection (https) to this site.';
  return null;
}
