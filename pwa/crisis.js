// The clinic's crisis resources as links that dial or text. The crisis screen, the help view
// and Home's help card show the same ones, from the clinic settings the signed-in user carries
// (user.clinic.crisis, kept on the phone with the user, so they show offline too).

import { h, paragraphs } from './ui.js';

export const NOT_WATCHED = 'Your answers go to your care team, but nobody watches them around the clock. '
  + 'If you might act on these thoughts, or feel unsafe, call your emergency number now.';

/** A phone number as a tel:/sms: address: its digits and a leading +, nothing else. */
export function dialable(number) {
  return String(number).replace(/[^\d+]/g, ''); // "+1 (555) 010-0100" → "+15550100100"
}

function dial(scheme, label, number, className = '') {
  // The number shown as the clinic wrote it; the address holds only what a phone dials.
  return h('a', { class: `button dial ${className}`.trim(), href: `${scheme}:${dialable(number)}` },
    `${label} `, h('span', { class: 'number' }, number));
}

/** The clinic's numbers, emergency first, each a full-width link; nothing for a number unset. */
export function crisisResources(clinic) {
  const crisis = (clinic && clinic.crisis) || {};
  const line = crisis.crisis_line && crisis.crisis_line.phone ? crisis.crisis_line : null;
  const blocks = [
    h('div', { class: 'resource' },
      h('p', {}, 'If you are in danger now, call your local emergency number.'),
      crisis.emergency_number ? dial('tel', 'Call emergency services:', crisis.emergency_number, 'emergency') : null),
  ];
  if (line) {
    blocks.push(h('div', { class: 'resource' },
      h('p', {}, 'To talk to someone now: ', h('strong', {}, line.name || 'a crisis line'), '.'),
      dial('tel', 'Call the crisis line:', line.phone),
      line.sms ? dial('sms', 'Text the crisis line:', line.sms) : null));
  }
  if (crisis.clinic_phone) {
    blocks.push(h('div', { class: 'resource' },
      h('p', {}, clinic.name ? `Your clinic, ${clinic.name}.` : 'Your clinic.',
        crisis.clinic_hours ? ` Opening hours: ${crisis.clinic_hours}.` : ''),
      dial('tel', 'Call your clinic:', crisis.clinic_phone)));
  }
  if (!line && !crisis.clinic_phone) {
    blocks.push(h('p', {}, 'Your care team can tell you which numbers to call when you need help.'));
  }
  if (crisis.message) blocks.push(h('div', { class: 'resource message' }, paragraphs(crisis.message)));
  return h('div', { class: 'resources stack' }, blocks);
}
