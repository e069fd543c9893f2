// The history chart, our own SVG: named bands, one dot per check-in, the line of daily or
// weekly means, sessions and reference lines told apart by colour and by dash, dated ticks and
// a legend with keys. One tab stop: the arrow keys move through dots and sessions; a tap or a
// click reads the nearest one within HIT px, so that even a small dot is a 44 px target.

import { scoreText, sessionLabel } from './format.js';
import { h } from './ui.js';

// About one unit per CSS pixel on a phone, so that labels stay readable there.
const WIDTH = 360;
const HEIGHT = 240;
const PAD = { left: 30, right: 10, top: 18, bottom: 32 };
const DAY = 86400000;
const HIT = 24; // CSS px from a dot's centre that still reads it: a 48 px target
const touch = () => typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;

export function sparkline(values, max, label) {
  const w = 160;
  const hgt = 40;
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - (v / max) * hgt).toFixed(1)}`).join(' ');
  return h('svg:svg', { viewBox: `-2 -2 ${w + 4} ${hgt + 4}`, class: 'spark', role: 'img', 'aria-label': label },
    h('svg:polyline', { points, class: 'spark-line' }));
}

/**
 * The reference lines of an outcome chart, from the summary's own thresholds: the baseline
 * and, where response and remission apply to it, the response line (the baseline less the
 * response percentage) and the remission cut-off. `labels` names the three for the screen:
 * a word ("Baseline" reads "Baseline: 18") or a function of the line's value.
 */
export function outcomeLines(summary, labels) {
  if (!summary || !summary.baseline) return [];
  const { thresholds } = summary;
  const base = summary.baseline.total;
  const named = (kind, value) => ({
    value, kind, label: typeof labels[kind] === 'function' ? labels[kind](scoreText(value)) : `${labels[kind]}: ${scoreText(value)}`,
  });
  const lines = [named('baseline', base)];
  if (thresholds.min_baseline === null || base >= thresholds.min_baseline) {
    lines.push(named('response', Math.round(base * (100 - thresholds.response_percent)) / 100));
    lines.push(named('remission', thresholds.remission_max));
  }
  return lines;
}

/** Dated ticks between `start` and `end` (ms): per day, week or month, as many as fit. */
function dateTicks(start, end) {
  const perDay = (WIDTH - PAD.left - PAD.right) / ((end - start) / DAY);
  const ticks = [];
  const fits = (days, gap) => days * perDay >= gap;
  const dayLabel = (d) => d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  const walk = (first, next, label) => {
    for (let d = first; d.getTime() <= end; d = next(d)) {
      if (d.getTime() >= start) ticks.push({ t: d.getTime(), label: label(d, ticks.length === 0) });
    }
  };
  const midnight = new Date(start);
  midnight.setHours(0, 0, 0, 0);
  const days = [1, 2, 3].find((n) => fits(n, 48) && (end - start) / DAY <= 16);
  if (days) {
    walk(midnight, (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + days), dayLabel);
    return ticks;
  }
  const weeks = [1, 2, 4].find((n) => fits(n * 7, 48));
  if (weeks) {
    const monday = new Date(midnight);
    monday.setDate(monday.getDate() + ((8 - monday.getDay()) % 7));
    walk(monday, (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + weeks * 7), dayLabel);
    return ticks;
  }
  const months = [1, 2, 3, 6, 12, 24].find((n) => fits(n * 30.4, 34)) || 48;
  let first = new Date(midnight.getFullYear(), midnight.getMonth() + 1, 1);
  while (first.getMonth() % Math.min(months, 12)) first = new Date(first.getFullYear(), first.getMonth() + 1, 1);
  walk(first, (d) => new Date(d.getFullYear(), d.getMonth() + months, 1), (d, isFirst) => ({
    month: d.toLocaleDateString(undefined, months >= 12 ? { year: 'numeric' } : { month: 'short' }),
    year: months < 12 && (isFirst || d.getMonth() === 0) ? String(d.getFullYear()) : '',
  }));
  return ticks;
}

const sentenceCase = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** A legend key: a small drawing with the same classes as what it names in the chart. */
function key(...shapes) {
  return h('svg:svg', { class: 'key', viewBox: '0 0 28 14', width: 28, height: 14, 'aria-hidden': 'true' }, shapes);
}

/**
 * points: [{at: Date, value, label (short, its tooltip), text (read out when chosen)}], one
 * per entry; trend: [{at: Date, value}] the line (the daily or weekly means; the points when
 * absent); sessions: [{started_at, treatment, dose_mg}] named with `treatments` (the
 * vocabulary) or `sessionText`; lines:
 * [{value, label, kind}]; bands: [{min, max, label}] (the instrument's own); max.
 * `words` names the dots and the line in the legend: {points, trend}.
 */
export function chart({
  title, points, trend = null, sessions = [], treatments = [], lines = [], bands = [], max, words = {},
  sessionText = (session) => `Treatment session: ${sessionLabel(session, treatments)}`,
}) {
  const times = points.map((p) => p.at.getTime());
  const first = points.length ? Math.min(...times) : Date.now() - DAY * 30;
  const last = points.length ? Math.max(...times) : Date.now();
  // A little room either side, and a week around a single day, so no point sits on an edge.
  const margin = Math.max((last - first) * 0.03, last - first < DAY ? 3.5 * DAY : DAY / 2);
  const start = first - margin;
  const end = last + margin;
  const span = end - start;
  const x = (t) => PAD.left + ((t - start) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const bottom = HEIGHT - PAD.bottom;
  const onTouch = touch();

  const caption = h('p', { class: 'chart-caption', 'aria-live': 'polite' },
    !points.length ? 'No scores yet.'
      : onTouch ? 'Tap a dot or a session mark to read it.'
        : 'Click a dot or a session mark, or use the arrow keys, to read it.');
  const svg = h('svg:svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart',
    role: 'application',
    tabindex: '0',
    'aria-roledescription': 'chart',
    'aria-label': `${title}. ${points.length} ${points.length === 1 ? 'score' : 'scores'}, lower is better.`
      + `${onTouch ? '' : ' Use the left and right arrow keys to read each score and session.'}`,
  });

  for (const [index, band] of bands.entries()) {
    const top = y(Math.min(max, band.max + 0.5));
    const low = y(Math.max(0, band.min - 0.5));
    svg.append(h('svg:rect', {
      x: PAD.left, y: top, width: WIDTH - PAD.left - PAD.right, height: Math.max(0, low - top),
      class: `band band-${index}`,
    }));
    if (low - top >= 11) {
      svg.append(h('svg:text', { x: WIDTH - PAD.right - 4, y: top + Math.min(12, (low - top) / 2 + 4), class: 'band-name', 'text-anchor': 'end' },
        sentenceCase(band.label)));
    }
  }
  const levels = bands.length ? [...bands.map((b) => b.min), max] : [0, Math.round(max / 2), max];
  for (const tick of levels) {
    svg.append(h('svg:text', { x: PAD.left - 5, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, String(tick)));
  }
  if (points.length) {
    for (const tick of dateTicks(start, end)) {
      const at = x(tick.t);
      const label = typeof tick.label === 'string' ? { month: tick.label, year: '' } : tick.label;
      svg.append(
        h('svg:line', { x1: at, x2: at, y1: PAD.top, y2: bottom + 3, class: 'grid' }),
        h('svg:text', { x: at, y: bottom + 14, class: 'axis', 'text-anchor': 'middle' }, label.month),
        label.year ? h('svg:text', { x: at, y: bottom + 26, class: 'axis', 'text-anchor': 'middle' }, label.year) : null,
      );
    }
  }
  for (const line of lines) {
    svg.append(h('svg:line', {
      x1: PAD.left, x2: WIDTH - PAD.right, y1: y(line.value), y2: y(line.value), class: `ref ref-${line.kind}`,
    }, h('svg:title', {}, line.label)));
  }

  const stops = [];
  const inRange = sessions.filter((s) => {
    const t = new Date(s.started_at).getTime();
    return t >= start && t <= end;
  });
  for (const session of inRange) {
    const t = new Date(session.started_at).getTime();
    const mark = h('svg:g', { class: 'session' },
      h('svg:line', { x1: x(t), x2: x(t), y1: PAD.top - 4, y2: bottom }),
      h('svg:path', { d: `M${x(t) - 6},${PAD.top - 16} h12 l-6,10 z` }),
      h('svg:title', {}, sessionText(session)));
    svg.append(mark);
    stops.push({ t, el: mark, text: sessionText(session), at: [[x(t), PAD.top - 10]] });
  }

  const line = trend || points;
  if (line.length > 1) {
    svg.append(h('svg:polyline', {
      class: 'trend', points: line.map((p) => `${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '),
    }));
  }
  const dots = document.createDocumentFragment();
  for (const point of points) {
    const cx = x(point.at.getTime());
    const cy = y(point.value);
    const dot = h('svg:circle', { cx, cy, r: points.length > 200 ? 1.8 : 4, class: 'dot' },
      h('svg:title', {}, point.label));
    dots.append(dot);
    stops.push({ t: point.at.getTime(), el: dot, text: point.text || point.label, at: [[cx, cy]] });
  }
  svg.append(dots);
  stops.sort((a, b) => a.t - b.t);

  const legend = h('ul', { class: 'chart-legend' },
    points.length ? h('li', {}, key(
      h('svg:line', { x1: 1, x2: 27, y1: 10, y2: 4, class: 'trend' }),
      h('svg:circle', { cx: 14, cy: 7, r: 3.5, class: 'dot' })),
    words.points || 'Each dot is one score; the line joins them.') : null,
    lines.map((ref) => h('li', {}, key(h('svg:line', { x1: 1, x2: 27, y1: 7, y2: 7, class: `ref ref-${ref.kind}` })), ref.label)),
    inRange.length ? h('li', {}, key(h('svg:g', { class: 'session' },
      h('svg:line', { x1: 14, x2: 14, y1: 6, y2: 14 }), h('svg:path', { d: 'M9,0 h10 l-5,8 z' }))),
    words.sessions || 'Treatment session') : null);
  const note = h('p', { class: 'chart-note' }, words.lower || 'Lower is better: a lower score means fewer symptoms.');
  return readable(svg, caption, stops, [note], [legend]);
}

/**
 * Before → after pairs, one per session, oldest first (a quick rating: no bands, no reference
 * lines). pairs: [{label (under the pair), pre, post (numbers or null), text (read out)}].
 * One tab stop; the arrow keys move from pair to pair, each read out.
 */
export function pairChart({ title, pairs, max, empty = 'Nothing rated yet.' }) {
  const shown = pairs.slice(-12); // the latest twelve sessions fit a phone's width
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(shown.length, 1);
  const y = (v) => PAD.top + (1 - v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const caption = h('p', { class: 'chart-caption', 'aria-live': 'polite' },
    !shown.length ? empty
      : touch() ? 'Tap a session to read it.' : 'Click a session, or use the arrow keys, to read it.');
  const svg = h('svg:svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart pairs',
    role: 'application',
    tabindex: '0',
    'aria-roledescription': 'chart',
    'aria-label': `${title}. ${shown.length} sessions, before and after.${touch() ? '' : ' Use the left and right arrow keys to read each one.'}`,
  });
  for (const tick of [0, Math.round(max / 2), max]) {
    svg.append(
      h('svg:line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      h('svg:text', { x: PAD.left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, String(tick)),
    );
  }
  const stops = [];
  for (const [index, pair] of shown.entries()) {
    const middle = PAD.left + slot * (index + 0.5);
    const before = middle - Math.min(slot * 0.22, 14);
    const after = middle + Math.min(slot * 0.22, 14);
    const group = h('svg:g', { class: 'pair' }, h('svg:title', {}, pair.text));
    if (pair.pre !== null && pair.post !== null) {
      group.append(h('svg:line', { x1: before, x2: after, y1: y(pair.pre), y2: y(pair.post), class: 'pair-line' }));
    }
    // Each value written beside its dot, so the pair reads without a legend.
    const value = (v, cx, anchor) => h('svg:text', {
      x: cx + (anchor === 'end' ? -7 : 7), y: y(v) + 4, class: 'axis value', 'text-anchor': anchor,
    }, String(v));
    if (pair.pre !== null) {
      group.append(h('svg:circle', { cx: before, cy: y(pair.pre), r: 4.5, class: 'pre' }), value(pair.pre, before, 'end'));
    }
    if (pair.post !== null) {
      group.append(h('svg:circle', { cx: after, cy: y(pair.post), r: 4.5, class: 'post' }), value(pair.post, after, 'start'));
    }
    if (shown.length <= 6 || index === 0 || index === shown.length - 1) {
      group.append(h('svg:text', { x: middle, y: HEIGHT - 6, class: 'axis', 'text-anchor': 'middle' }, pair.label));
    }
    svg.append(group);
    const at = [[middle, HEIGHT - 10]];
    if (pair.pre !== null) at.push([before, y(pair.pre)]);
    if (pair.post !== null) at.push([after, y(pair.post)]);
    stops.push({ el: group, text: pair.text, at });
  }
  return readable(svg, caption, stops);
}

/**
 * One tab stop for the whole chart: the arrow keys (and Home, End) move through `stops`
 * ([{el, text, at: [[x, y]...] in the chart's units}]), and a tap, a click or the mouse
 * pointer chooses the stop nearest to it (within HIT px); the stop's text is read out in
 * the caption. `before` and `after` go around the chart in its figure.
 */
function readable(svg, caption, stops, before = [], after = []) {
  let current = -1;
  const focusStop = (index) => {
    if (!stops.length) return;
    if (current >= 0) stops[current].el.classList.remove('current');
    current = Math.max(0, Math.min(stops.length - 1, index));
    stops[current].el.classList.add('current');
    caption.textContent = stops[current].text;
  };
  const nearest = (event) => {
    const ctm = svg.getScreenCTM();
    if (!ctm) return -1;
    let found = -1;
    let distance = HIT;
    for (const [index, stop] of stops.entries()) {
      for (const [sx, sy] of stop.at || []) {
        const gap = Math.hypot(ctm.a * sx + ctm.c * sy + ctm.e - event.clientX, ctm.b * sx + ctm.d * sy + ctm.f - event.clientY);
        if (gap <= distance) [found, distance] = [index, gap];
      }
    }
    return found;
  };
  svg.addEventListener('keydown', (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: stops.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      focusStop(current < 0 && event.key === 'ArrowRight' ? 0 : moves[event.key]);
    }
  });
  let pointing = false;
  svg.addEventListener('pointerdown', () => { pointing = true; });
  svg.addEventListener('focus', () => {
    if (current < 0 && !pointing) focusStop(stops.length - 1);
    pointing = false;
  });
  svg.addEventListener('click', (event) => {
    pointing = false;
    const index = nearest(event);
    if (index >= 0) focusStop(index);
  });
  svg.addEventListener('pointermove', (event) => {
    if (event.pointerType !== 'mouse') return;
    const index = nearest(event);
    if (index >= 0 && index !== current) focusStop(index);
  });
  return h('figure', { class: 'chart-box' }, before, svg, caption, after);
}
