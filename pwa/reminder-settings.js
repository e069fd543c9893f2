// The reminder settings form, for the patient's Reminders screen and the clinician's patient
// page (API.md: the patient, or a clinician, may read and set them).

import { h, show } from './ui.js';
import { apiForm, field, select } from './widgets.js';

const PATIENT_WORDS = {
  title: 'When to remind you',
  enabled: 'Send me reminders',
  timeOfDay: 'Remind me of a check-in at',
  timeOfDayHint: 'On the day it is due, in your time zone.',
  morningAfter: 'The morning after a session (9:00), remind me of the after-session check-in',
  saved: 'Saved. Reminders follow these settings from now on.',
};
const CLINICIAN_WORDS = {
  title: 'Reminders',
  enabled: 'Send this patient reminders',
  timeOfDay: 'Check-in reminder at',
  timeOfDayHint: 'On the day it is due, in the patient\'s time zone.',
  morningAfter: 'The morning after a session (9:00), a reminder of the after-session check-in',
  saved: 'Saved. The patient\'s reminders follow these settings from now on.',
};

function timeInput(name, value, required = true) {
  return h('input', { type: 'time', name, value: value || '', required, step: 60 });
}

/**
 * The reminder settings form (PUT path). `forPatient`: the patient's own words ("me", "you");
 * otherwise a clinician's, about the patient, with `intro` under the heading. Times are the
 * patient's local times.
 */
export function reminderSettingsForm(path, settings, preSessionChoices, { forPatient = true, intro = null } = {}) {
  const words = forPatient ? PATIENT_WORDS : CLINICIAN_WORDS;
  const choices = preSessionChoices.map((c) => [c.value, c.label]);
  if (!choices.some(([value]) => value === settings.pre_session_hours)) {
    choices.push([settings.pre_session_hours, `${settings.pre_session_hours} hours before`]);
  }
  const quietOn = settings.quiet_start !== null;
  const quietStart = timeInput('quiet_start', settings.quiet_start || '21:00');
  const quietEnd = timeInput('quiet_end', settings.quiet_end || '08:00');
  const quietFields = h('div', { class: 'quiet-times', hidden: !quietOn },
    field('From', quietStart), field('Until', quietEnd));
  const quietBox = h('input', { type: 'checkbox', name: 'quiet', checked: quietOn });
  quietBox.addEventListener('change', () => { quietFields.hidden = !quietBox.checked; });
  const status = h('div', { 'aria-live': 'polite' });

  return h('section', { class: 'card', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, words.title),
    intro,
    status,
    apiForm({
      method: 'PUT',
      path,
      submitLabel: 'Save reminder settings',
      build: (data) => ({
        enabled: data.get('enabled') === 'on',
        time_of_day: String(data.get('time_of_day')),
        quiet_start: data.get('quiet') === 'on' ? String(data.get('quiet_start')) : null,
        quiet_end: data.get('quiet') === 'on' ? String(data.get('quiet_end')) : null,
        pre_session_hours: Number(data.get('pre_session_hours')),
        post_session_next_day: data.get('post_session_next_day') === 'on',
      }),
      done: () => {
        show(status, h('p', { class: 'notice', role: 'status', tabindex: '-1' }, words.saved));
        status.firstChild.focus();
      },
      children: [
        h('label', { class: 'option' },
          h('input', { type: 'checkbox', name: 'enabled', checked: settings.enabled }),
          h('span', {}, words.enabled)),
        field(words.timeOfDay, timeInput('time_of_day', settings.time_of_day), words.timeOfDayHint),
        h('fieldset', {},
          h('legend', {}, 'Quiet hours'),
          h('label', { class: 'option' }, quietBox, h('span', {}, 'No reminders at night')),
          quietFields,
          h('p', { class: 'hint' }, 'A reminder that falls in quiet hours waits until they end.')),
        field('Before a planned session', select('pre_session_hours', choices, settings.pre_session_hours)),
        h('label', { class: 'option' },
          h('input', { type: 'checkbox', name: 'post_session_next_day', checked: settings.post_session_next_day }),
          h('span', {}, words.morningAfter)),
      ],
    }));
}
