// Dates, scores and bands in plain words.

export function isoWithOffset(date = new Date()) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function day(value) {
  const date = typeof value === 'string' && value.length === 10 ? new Date(`${value}T12:00:00`) : new Date(value);
  return date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

export function dayAndTime(value) {
  return new Date(value).toLocaleString(undefined, {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

/** A session's time as the patient plans around it, in local time: "Thursday 10:00" within
 * the coming week, "Thursday 12 March, 10:00" further ahead. */
export function sessionTime(value, now = new Date()) {
  const date = new Date(value);
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const withinWeek = date - now < 6 * 86400000;
  const when = date.toLocaleDateString(undefined, withinWeek
    ? { weekday: 'long' } : { weekday: 'long', day: 'numeric', month: 'long' });
  return `${when}${withinWeek ? '' : ','} ${time}`;
}

export function daysSince(value, now = new Date()) {
  return (now - new Date(value)) / 86400000;
}

/** The band of a total, from the instrument's own definition (rounded half up, scales.md). */
export function bandOf(instrument, total) {
  const whole = Math.floor(total + 0.5);
  const band = instrument.bands.find((b) => b.min <= whole && whole <= b.max);
  return band ? band.label : '';
}

/**
 * A total as shown: the API answers a prorated total unrounded (scales.md), so it is shown
 * to one decimal, half up (20.571… → 20.6); a whole total as it is. Changes, deltas, means and
 * percentages come rounded from the API and are printed as they are.
 */
export function scoreText(total) {
  if (total === null || total === undefined) return '–';
  if (Number.isInteger(total)) return String(total);
  const tenths = Math.floor(Math.abs(total) * 10 + 0.5 + 1e-9) * Math.sign(total);
  return (tenths / 10).toFixed(1);
}

const BAND_WORDS = {
  minimal: 'minimal symptoms',
  mild: 'mild symptoms',
  moderate: 'moderate symptoms',
  'moderately severe': 'moderately severe symptoms',
  severe: 'severe symptoms',
  'symptom-free': 'no symptoms',
};

export function bandWords(label) {
  return BAND_WORDS[label] || label;
}

/** The label of `value` in a vocabulary of /vocabularies (or another of its words, `field`). */
export function labelOf(terms, value, field = 'label') {
  const term = (terms || []).find((t) => t.value === value);
  return (term && term[field]) || value;
}

/** A select's [value, label] pairs for a vocabulary. */
export function choices(terms) {
  return terms.map((t) => [t.value, t.label]);
}

export function sessionLabel(session, treatments) {
  const kind = labelOf(treatments, session.treatment);
  const dose = session.dose_mg === null || session.dose_mg === undefined ? '' : `, ${session.dose_mg} mg`;
  return `${kind}${dose}, ${day(session.started_at)}`;
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** Hours since `value` (an ISO time), by `now`. */
export function hoursSince(value, now = new Date()) {
  return (now - new Date(value)) / 3600000;
}

/** A span of hours in plain words: "less than an hour", "5 hours", "3 days". */
export function durationWords(hours) {
  if (hours < 1) return 'less than an hour';
  if (hours < 48) return plural(Math.floor(hours), 'hour', 'hours');
  return plural(Math.floor(hours / 24), 'day', 'days');
}

/** A quick rating's sessions as before → after pairs (the summary's `sessions`, oldest first):
 * the sessions rated before or after, each named and read out in words. */
export function ratingPairs(summary, treatments) {
  return ((summary && summary.sessions) || [])
    .filter((pair) => pair.pre || pair.post.length)
    .map((pair) => {
      const pre = pair.pre ? pair.pre.total : null;
      const post = pair.post.length ? pair.post[0].total : null;
      const words = [
        `before ${pre === null ? 'not rated' : pre}`,
        `after ${post === null ? 'not rated' : post}`,
      ].join(', ');
      return {
        session: pair.session,
        label: new Date(pair.session.started_at).toLocaleDateString(undefined, { day: 'numeric', month: 'short' }),
        pre,
        post,
        text: `${sessionLabel(pair.session, treatments)}: ${words}`,
      };
    });
}

/** A change as every screen words it (positive = the score fell): "↓ 7 points, 41 % better",
 * "↑ 1 point, 5 % worse". The percentage is cut, not rounded: 49.6 % is no 50 % response. */
export function changeWords(change, percent = null) {
  if (change === null || change === undefined) return null;
  if (change === 0) return 'no change';
  const size = Math.abs(change);
  const arrow = change > 0 ? '↓' : '↑';
  const better = change > 0 ? 'better' : 'worse';
  const points = `${arrow} ${scoreText(size)} ${size === 1 ? 'point' : 'points'}`;
  if (percent === null || percent === undefined) return `${points} ${better}`;
  return `${points}, ${Math.floor(Math.abs(percent) + 1e-9)} % ${better}`;
}

