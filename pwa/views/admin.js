// Account and clinic administration: the clinic's crisis resources (set by an admin, shown to
// everyone), the password, signed-in devices and API tokens for everyone; clinicians (with
// their reset codes) and audit for admins.

import { devicesSection, passwordSection } from '../account.js';
import { allPages, api, errorMessage } from '../api.js';
import { choices, dayAndTime, labelOf } from '../format.js';
import { state, vocabularies } from '../session.js';
import { alertBox, button, focusHeading, h, show } from '../ui.js';
import { Incomplete, apiForm, enrollmentDetails, field, select } from '../widgets.js';

export async function render(main, params, newToken = null) {
  const admin = state.user.is_admin;
  document.title = `${admin ? 'Clinic admin' : 'Account'} · Tidemark`;
  const refresh = () => render(main, params);
  const devices = h('div', {}, devicesSection());
  const [tokens, clinicians, words, clinic] = await Promise.all([
    allPages('/auth/tokens'),
    admin ? allPages('/clinicians') : Promise.resolve([]),
    vocabularies(),
    api('/clinic'),
  ]);
  show(main,
    h('h1', {}, admin ? 'Clinic admin' : 'Account'),
    h('p', {}, `Signed in as ${state.user.email}, ${state.user.clinic.name}.`),
    crisisSection(clinic, admin),
    thresholdsSection(clinic, admin),
    passkeysSection(clinic, admin, clinicians),
    passwordSection(() => show(devices, devicesSection())),
    devices,
    tokensSection(tokens, words.token_scopes, refresh, (token) => render(main, params, token), newToken),
    admin ? cliniciansSection(clinicians, words.roles, refresh) : null,
    admin ? await auditSection(params, words) : null);
  focusHeading(main);
}

/** A link to one's own passkeys; for admins, whether the clinic requires them of clinicians. */
function passkeysSection(clinic, admin, clinicians) {
  const message = h('div', { 'aria-live': 'polite' });
  const required = h('input', { type: 'checkbox', id: 'require-passkeys', checked: clinic.require_passkey_for_clinicians, disabled: !admin });
  required.addEventListener('change', async () => {
    try {
      await api('/clinic', { method: 'PATCH', body: { require_passkey_for_clinicians: required.checked } });
      show(message, h('p', { class: 'notice', role: 'status' }, 'Saved.'));
    } catch (error) {
      required.checked = !required.checked;
      show(message, alertBox(errorMessage(error)));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'passkeys-title' },
    h('h2', { id: 'passkeys-title' }, 'Passkeys'),
    h('p', {}, 'Sign in with your device\'s screen lock or a security key instead of a password. ',
      h('a', { href: '#/passkeys' }, 'Your passkeys')),
    h('div', { class: 'inline' }, required,
      h('label', { for: 'require-passkeys' }, 'Clinicians must sign in with a passkey')),
    h('p', { class: 'hint' }, admin
      ? 'A clinician who has a passkey can no longer sign in with a password alone; one who has none yet signs in with their password and is asked to make one.'
      : 'Only a clinic admin can change this.'),
    admin ? lostDeviceForm(clinicians.filter((c) => c.id !== state.user.id), message) : null,
    message);
}

/** A clinician lost the device that holds their passkey: remove all of theirs, so that they
 * sign in with their password again and make a new one. */
function lostDeviceForm(clinicians, message) {
  const form = h('form', { class: 'filters' },
    field('Lost device: remove the passkeys of', select('clinician', clinicians.map((c) => [c.id, c.display_name]), null, 'Choose a clinician')),
    h('button', { type: 'submit' }, 'Remove their passkeys'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = form.elements.namedItem('clinician');
    if (!chosen.value) {
      chosen.focus();
      return;
    }
    const name = chosen.selectedOptions[0].textContent;
    try {
      await api(`/clinicians/${chosen.value}/passkeys`, { method: 'DELETE' });
      show(message, h('p', { class: 'notice', role: 'status' }, `${name} has no passkeys now: they sign in with their password and make a new one.`));
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  });
  return form;
}

// The crisis form's inputs, named by their path in PATCH /clinic (so that a 422 names them).
const CRISIS_FIELDS = [
  ['crisis.emergency_number', 'Emergency number', 'tel', 'The local emergency services, for example 911 or 112.'],
  ['crisis.crisis_line.name', 'Crisis line name', 'text', 'For example: 988 Suicide & Crisis Lifeline.'],
  ['crisis.crisis_line.phone', 'Crisis line phone number', 'tel', 'Needed before patients can be added.'],
  ['crisis.crisis_line.sms', 'Crisis line text message number (optional)', 'tel', 'Leave empty if the line takes no text messages.'],
  ['crisis.clinic_phone', 'Clinic phone number', 'tel', 'Needed before patients can be added.'],
  ['crisis.clinic_hours', 'Clinic opening hours', 'text', 'For example: Mon–Fri 9–17.'],
];

function crisisValue(crisis, path) {
  return path.split('.').slice(1).reduce((value, key) => (value ? value[key] : null), crisis);
}

/** The numbers patients see on the crisis screen, and when a flag becomes overdue: a form for
 * admins, what is set for everyone else. */
function crisisSection(clinic, admin) {
  const section = h('section', { class: 'card crisis-settings', 'aria-labelledby': 'crisis-title' });
  const draw = (current, saved) => {
    const { crisis } = current;
    const missing = current.crisis_ready ? null : h('div', { class: 'warning' },
      h('p', {}, h('strong', {}, 'Crisis resources are not set yet. '),
        'Patients cannot be added until these are set: the crisis line phone number and the clinic phone number.'));
    show(section,
      h('h2', { id: 'crisis-title' }, 'Crisis resources'),
      h('p', {}, 'Patients see these numbers, ready to call or text, whenever they answer a question about self-harm, and from "Get help now" on every screen, offline too.'),
      missing,
      saved ? h('p', { class: 'notice', role: 'status', tabindex: '-1' }, 'Saved. Patients see the new numbers from their next screen.') : null,
      admin ? crisisForm(current, (answer) => {
        draw(answer, true);
        section.querySelector('[role=status]').focus();
      }) : [
        h('dl', { class: 'figures' }, CRISIS_FIELDS.map(([path, label]) => [
          h('dt', {}, label.replace(' (optional)', '')), h('dd', {}, crisisValue(crisis, path) || 'not set')]),
        h('dt', {}, 'Message to patients'), h('dd', {}, crisis.message || 'none'),
        h('dt', {}, 'Flags overdue after'), h('dd', {}, `${current.flag_overdue_hours} hours`)),
        h('p', { class: 'hint' }, 'Only a clinic admin can change these.'),
      ]);
  };
  draw(clinic, false);
  return section;
}

function crisisForm(clinic, done) {
  const { crisis } = clinic;
  return apiForm({
    method: 'PATCH',
    path: '/clinic',
    submitLabel: 'Save crisis resources',
    build: (data, form) => {
      const text = (name) => String(data.get(name) || '').trim() || null;
      const line = {
        name: text('crisis.crisis_line.name'),
        phone: text('crisis.crisis_line.phone'),
        sms: text('crisis.crisis_line.sms'),
      };
      const partLine = (line.name || line.phone || line.sms) && (!line.name || !line.phone);
      if (partLine) {
        const controls = ['name', 'phone'].filter((key) => !line[key])
          .map((key) => form.elements.namedItem(`crisis.crisis_line.${key}`));
        throw new Incomplete('A crisis line needs both its name and its phone number.', controls);
      }
      const hours = String(data.get('flag_overdue_hours')).trim();
      if (!hours) throw new Incomplete('Say after how many hours an open flag is overdue.', [form.elements.namedItem('flag_overdue_hours')]);
      return {
        crisis: {
          emergency_number: text('crisis.emergency_number'),
          crisis_line: line.name ? line : null,
          clinic_phone: text('crisis.clinic_phone'),
          clinic_hours: text('crisis.clinic_hours'),
          message: text('crisis.message'),
        },
        flag_overdue_hours: Number(hours),
      };
    },
    done,
    children: [
      h('div', { class: 'grid' }, CRISIS_FIELDS.map(([path, label, type, hint]) => field(label,
        h('input', { name: path, type, value: crisisValue(crisis, path) || '', autocomplete: 'off', ...(type === 'tel' ? { inputmode: 'tel' } : {}) }),
        hint))),
      field('Message to patients (optional)', h('textarea', { name: 'crisis.message', rows: 3, maxlength: 2000 }, crisis.message || ''),
        'Shown on the crisis screen under the numbers, for example what to do out of hours.'),
      field('An open safety flag is overdue after (hours, 1 to 168)',
        h('input', { name: 'flag_overdue_hours', type: 'number', min: 1, max: 168, inputmode: 'numeric', value: clinic.flag_overdue_hours }),
        'Overdue flags are marked on the panel, in the flag inbox and on the patient page.'),
    ],
  });
}

const THRESHOLDS = [
  ['before_dosing', 'Before dosing'],
  ['any_time', 'At any time'],
];

/** Above which blood pressure a monitoring record marks a reading raised: a form for admins,
 * the values for everyone else. Readings are never refused for being raised. */
function thresholdsSection(clinic, admin) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'thresholds-title' });
  const words = (limits) => THRESHOLDS.map(([key, label]) => `${label.toLowerCase()} above ${limits[key].systolic}/${limits[key].diastolic}`).join(', ');
  const draw = (current, saved) => {
    const limits = current.blood_pressure_thresholds;
    show(section,
      h('h2', { id: 'thresholds-title' }, 'Blood pressure thresholds'),
      h('p', {}, `Monitoring records mark a reading raised ${words(limits)} (systolic or diastolic above its limit).`),
      saved ? h('p', { class: 'notice', role: 'status', tabindex: '-1' }, 'Saved. Monitoring records are marked by the new thresholds.') : null,
      admin ? apiForm({
        method: 'PATCH',
        path: '/clinic',
        submitLabel: 'Save thresholds',
        build: (data, form) => {
          const names = THRESHOLDS.flatMap(([key]) => ['systolic', 'diastolic'].map((kind) => `blood_pressure_thresholds.${key}.${kind}`));
          const empty = names.filter((name) => !String(data.get(name)).trim());
          if (empty.length) throw new Incomplete('Give both pressures of both thresholds.', empty.map((name) => form.elements.namedItem(name)));
          const number = (name) => Number(String(data.get(name)).trim());
          return {
            blood_pressure_thresholds: Object.fromEntries(THRESHOLDS.map(([key]) => [key, {
              systolic: number(`blood_pressure_thresholds.${key}.systolic`),
              diastolic: number(`blood_pressure_thresholds.${key}.diastolic`),
            }])),
          };
        },
        done: (answer) => {
          draw(answer, true);
          section.querySelector('[role=status]').focus();
        },
        children: [h('div', { class: 'grid' }, THRESHOLDS.flatMap(([key, label]) => ['systolic', 'diastolic'].map((kind) => field(
          `${label}: ${kind} (mmHg)`,
          h('input', {
            name: `blood_pressure_thresholds.${key}.${kind}`, type: 'number', inputmode: 'numeric', step: 1,
            min: kind === 'systolic' ? 50 : 20, max: kind === 'systolic' ? 260 : 160, value: limits[key][kind],
          })))))],
      }) : h('p', { class: 'hint' }, 'Only a clinic admin can change these.'));
  };
  draw(clinic, false);
  return section;
}

function tokensSection(tokens, scopes, refresh, showNew, newToken) {
  const shown = h('div', { 'aria-live': 'polite' });
  if (newToken) {
    show(shown, h('div', { class: 'notice', role: 'status' },
      h('p', {}, `Token "${newToken.name}" (copy it now; it is not shown again):`),
      h('p', {}, h('code', { class: 'secret' }, newToken.token))));
  }
  const message = h('div');
  return h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'API tokens'),
    h('p', {}, 'For scripts: send "Authorization: Bearer <token>". A token is shown once, when created. '
      + 'No token can administer (clinicians, tokens, clinic settings, import): that needs a signed-in session.'),
    message,
    tokens.length ? h('table', { class: 'cards' },
      h('thead', {}, h('tr', {}, ['Name', 'May', 'Expires', 'Last used'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, tokens.map((token) => h('tr', {},
        h('th', { scope: 'row' }, token.name),
        h('td', { 'data-label': 'May' }, labelOf(scopes, token.scope)),
        h('td', { 'data-label': 'Expires' }, token.revoked ? 'revoked' : dayAndTime(token.expires_at)),
        h('td', { 'data-label': 'Last used' }, token.last_used_at ? dayAndTime(token.last_used_at) : 'never'),
        h('td', { class: 'row-buttons' }, token.revoked ? '' : button('Revoke', async () => {
          try {
            await api(`/auth/tokens/${token.id}`, { method: 'DELETE' });
            await refresh();
          } catch (error) {
            show(message, alertBox(errorMessage(error)));
          }
        }, { 'aria-label': `Revoke the token ${token.name}` })))))) : h('p', {}, 'No tokens yet.'),
    apiForm({
      path: '/auth/tokens',
      submitLabel: 'Create token',
      build: (data) => ({
        name: String(data.get('name')),
        expires_in_days: Number(data.get('expires_in_days')),
        scope: String(data.get('scope')),
      }),
      done: (answer) => showNew(answer), // the list again, with the secret shown this once
      children: [
        h('h3', {}, 'Create a token'),
        field('Name', h('input', { name: 'name', required: true, maxlength: 100 })),
        field('Valid for (days, 1 to 365)', h('input', { name: 'expires_in_days', type: 'number', min: 1, max: 365, value: 30 })),
        field('The token may', select('scope', choices(scopes), 'write')),
      ],
    }),
    shown);
}

function cliniciansSection(clinicians, roles, refresh) {
  const message = h('div');
  const toggle = (clinician) => button(clinician.active ? 'Deactivate' : 'Activate', async () => {
    try {
      await api(`/clinicians/${clinician.id}/${clinician.active ? 'deactivate' : 'activate'}`, { method: 'POST' });
      await refresh();
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  }, { 'aria-label': `${clinician.active ? 'Deactivate' : 'Activate'} ${clinician.display_name}` });
  const resetCode = (clinician) => button('Reset code', async () => {
    try {
      const issued = await api(`/clinicians/${clinician.id}/reset`, { method: 'POST' });
      show(message, h('div', { class: 'notice', role: 'status' },
        h('p', {}, `A reset code for ${clinician.display_name}: give it to them in person. With it they set a new password and are signed in; every other device of theirs is signed out.`),
        enrollmentDetails(issued)));
    } catch (error) {
      show(message, alertBox(errorMessage(error)));
    }
  }, { 'aria-label': `Reset code for ${clinician.display_name}` });
  return h('section', { class: 'card', 'aria-labelledby': 'clinicians-title' },
    h('h2', { id: 'clinicians-title' }, 'Clinicians'),
    message,
    h('table', { class: 'cards' },
      h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Status'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, clinicians.map((c) => h('tr', {},
        h('th', { scope: 'row' }, c.display_name),
        h('td', { 'data-label': 'Email', class: 'email' }, c.email),
        h('td', { 'data-label': 'Role' }, labelOf(roles, c.is_admin ? 'admin' : 'clinician')),
        h('td', { 'data-label': 'Status' }, c.active ? 'active' : 'deactivated'),
        h('td', { class: 'row-buttons' }, c.id === state.user.id ? '' : [c.active ? resetCode(c) : null, ' ', toggle(c)]))))),
    apiForm({
      path: '/clinicians',
      submitLabel: 'Add clinician',
      build: (data) => ({
        email: String(data.get('email')).trim(),
        display_name: String(data.get('display_name')).trim(),
        password: String(data.get('password')),
        is_admin: Boolean(data.get('is_admin')),
      }),
      done: refresh,
      children: [
        h('h3', {}, 'Add a clinician'),
        field('Name', h('input', { name: 'display_name', required: true })),
        field('Email', h('input', { name: 'email', type: 'email', required: true, autocomplete: 'off' })),
        field('First password', h('input', { name: 'password', type: 'password', minlength: 10, required: true, autocomplete: 'new-password' }), 'At least 10 characters; give it to them in person.'),
        h('div', { class: 'inline' },
          h('input', { type: 'checkbox', id: 'is_admin', name: 'is_admin' }),
          h('label', { for: 'is_admin' }, 'Clinic admin')),
      ],
    }));
}

/** Who acted, by name and role ("Dr Test, clinician"); nobody for a failed sign-in. */
function actorText(actor, roles) {
  if (!actor) return '–';
  const role = labelOf(roles, actor.role);
  return actor.display_name ? `${actor.display_name}, ${role}` : role;
}

async function auditSection(params, words) {
  const action = params.get('action') || '';
  const patientId = params.get('patient_id') || '';
  const since = params.get('since') || '';
  const query = new URLSearchParams({ limit: '100' });
  if (action) query.set('action', action);
  if (patientId) query.set('patient_id', patientId);
  if (since) query.set('since', `${since}T00:00:00Z`);
  let page;
  try {
    page = await api(`/audit?${query}`);
  } catch (error) {
    return h('section', { class: 'card' }, alertBox(errorMessage(error)));
  }
  const rows = h('tbody', {});
  const more = h('div');
  const add = (items, cursor) => {
    rows.append(...items.map((event) => h('tr', {},
      h('th', { scope: 'row' }, dayAndTime(event.at)),
      h('td', { 'data-label': 'Action' }, labelOf(words.audit_actions, event.action)),
      h('td', { 'data-label': 'Who' }, actorText(event.actor, words.roles)),
      h('td', { 'data-label': 'Patient' }, event.patient_id
        ? h('a', { href: `#/patient?id=${event.patient_id}` }, event.patient_name || 'a patient no longer listed')
        : '–'),
      h('td', { 'data-label': 'Address' }, event.ip || '–'))));
    show(more, cursor ? button('Show older', async () => {
      const next = await api(`/audit?${query}&cursor=${encodeURIComponent(cursor)}`);
      add(next.items, next.next_cursor);
    }) : null);
  };
  add(page.items, page.next_cursor);
  const filters = h('form', { class: 'filters' },
    field('Action', select('action', [['', 'any'], ...choices(words.audit_actions)], action)),
    field('Patient id', h('input', { name: 'patient_id', value: patientId })),
    field('Since', h('input', { name: 'since', type: 'date', value: since })),
    h('button', { type: 'submit' }, 'Filter'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(filters);
    const next = new URLSearchParams();
    for (const key of ['action', 'patient_id', 'since']) {
      if (String(data.get(key)).trim()) next.set(key, String(data.get(key)).trim());
    }
    location.hash = `#/admin?${next}`;
  });
  return h('section', { class: 'card', 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title' }, 'Audit log'),
    filters,
    h('div', { class: 'table-scroll' }, h('table', { class: 'cards audit' },
      h('thead', {}, h('tr', {}, ['When', 'Action', 'Who', 'Patient', 'Address'].map((t) => h('th', { scope: 'col' }, t)))),
      rows)),
    more);
}
