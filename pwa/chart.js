// The score charts, our own SVG. One tab stop each: the arrow keys move through what can be
// read, and a tap or click reads the nearest within HIT px, so a small dot is a 44 px target.

import { scoreText, sessionLabel } from './format.js';
import { h } from './ui.js';

// About one unit per CSS pixel on a phone, so that labels stay readable there.
const WIDTH = 360;
const HEIGHT = 240;
const LEFT = 30;
const RIGHT = WIDTH - 10;
const TOP = 18;
const BOTTOM = HEIGHT - 32;
const DAY = 86400000;
const HIT = 24;
const touch = () => matchMedia('(pointer: coarse)').matches;
const text = (x, y, words, anchor = 'end', cls = 'axis') => h('svg:text', { x, y, class: cls, 'text-anchor': anchor }, words);

export function sparkline(values, max, label) {
  const w = 160;
  const hgt = 40;
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - (v / max) * hgt).toFixed(1)}`).join(' ');
  return h('svg:svg', { viewBox: `-2 -2 ${w + 4} ${hgt + 4}`, class: 'spark', role: 'img', 'aria-label': label },
    h('svg:polyline', { points, class: 'spark-line' }));
}

/** Baseline, response and remission lines where they apply; `labels` names each (a word or a function). */
export function outcomeLines(summary, labels) {
  if (!summary || !summary.baseline) return [];
  const { thresholds } = summary;
  const base = summary.baseline.total;
  const line = (kind, value) => ({
    value, kind, label: typeof labels[kind] === 'function' ? labels[kind](scoreText(value)) : `${labels[kind]}: ${scoreText(value)}`,
  });
  return thresholds.min_baseline === null || base >= thresholds.min_baseline
    ? [line('baseline', base), line('response', Math.round(base * (100 - thresholds.response_percent)) / 100),
      line('remission', thresholds.remission_max)]
    : [line('baseline', base)];
}

function frame(cls, label, what, empty) {
  const svg = h('svg:svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: cls, role: 'application', tabindex: '0', 'aria-roledescription': 'chart',
    'aria-label': `${label}.${touch() ? '' : ` Use the left and right arrow keys to read each ${what}.`}`,
  });
  const caption = h('p', { class: 'chart-caption', 'aria-live': 'polite' },
    empty || (touch() ? `Tap a ${what} to read it.` : `Click a ${what}, or use the arrow keys, to read it.`));
  return [svg, caption];
}

/** Dated ticks, as many as fit: by day, week (Mondays) or month. */
function dateTicks(start, end) {
  const perDay = ((RIGHT - LEFT) * DAY) / (end - start);
  const d = new Date(start);
  d.setHours(0, 0, 0, 0);
  const days = [1, 2, 3, 7, 14, 28].find((n) => n * perDay >= 48 && (n > 3 || perDay > 19));
  const months = days ? 0 : [1, 2, 3, 6, 12].find((n) => n * 30.4 * perDay >= 34) || 24;
  if (days > 3) d.setDate(d.getDate() + ((8 - d.getDay()) % 7));
  if (months) d.setMonth(d.getMonth() + 1, 1);
  while (d.getMonth() % Math.min(months, 12)) d.setMonth(d.getMonth() + 1);
  const ticks = [];
  for (; d <= end; days ? d.setDate(d.getDate() + days) : d.setMonth(d.getMonth() + months)) {
    if (d >= start) {
      ticks.push([d.getTime(), d.toLocaleDateString(undefined, days ? { day: 'numeric', month: 'short' } : { month: 'short' }),
        months && (!ticks.length || !d.getMonth()) ? d.getFullYear() : '']);
    }
  }
  return ticks;
}

const item = (words, ...shapes) => h('li', {},
  h('svg:svg', { class: 'key', viewBox: '0 0 28 14', width: 28, height: 14, 'aria-hidden': 'true' }, shapes), words);
const stroke = (cls, y1 = 7, y2 = 7) => h('svg:line', { x1: 1, x2: 27, y1, y2, class: cls });
const sessionMark = (x, y, length) => [h('svg:line', { x1: x, x2: x, y1: y + 6, y2: y + length }), h('svg:path', { d: `M${x - 6},${y - 4} h12 l-6,10 z` })];

/** points: [{at, value, label, text}], one per entry; trend: [{at, value}], the means the line joins. */
export function chart({
  title, points, trend = null, sessions = [], treatments = [], lines = [], bands = [], max, words = {},
}) {
  const times = points.map((p) => p.at.getTime());
  const first = points.length ? Math.min(...times) : Date.now() - DAY * 30;
  const last = points.length ? Math.max(...times) : Date.now();
  // A little room either side, and a week around a single day, so no point sits on an edge.
  const margin = Math.max((last - first) * 0.03, last - first < DAY ? 3.5 * DAY : DAY / 2);
  const start = first - margin;
  const end = last + margin;
  const x = (t) => LEFT + ((t - start) / (end - start)) * (RIGHT - LEFT);
  const y = (v) => TOP + (1 - v / max) * (BOTTOM - TOP);
  const [svg, caption] = frame('chart', `${title}. ${points.length} ${points.length === 1 ? 'score' : 'scores'}, lower is better`, 'dot or session mark',
    !points.length && 'No scores yet.');

  // Each band named on the side where fewer dots would hide its name.
  const hidden = (from, to, base) => points.filter((p) => Math.abs(x(p.at.getTime()) - (from + to) / 2) < (to - from) / 2 + 5
    && Math.abs(y(p.value) - base + 4) < 11).length;
  for (const [index, band] of bands.entries()) {
    const top = y(Math.min(max, band.max + 0.5));
    const low = y(Math.max(0, band.min - 0.5));
    const width = band.label.length * 5.6 + 4;
    const base = (top + low) / 2 + 3.5;
    const left = hidden(LEFT, LEFT + width, base) < hidden(RIGHT - width, RIGHT, base);
    svg.append(h('svg:rect', { x: LEFT, y: top, width: RIGHT - LEFT, height: low - top, class: `band band-${index}` }),
      low - top < 11 ? null
        : text(left ? LEFT + 4 : RIGHT - 4, base, band.label[0].toUpperCase() + band.label.slice(1), left ? 'start' : 'end', 'band-name'));
  }
  for (const tick of bands.length ? [...bands.map((b) => b.min), max] : [0, Math.round(max / 2), max]) {
    svg.append(text(LEFT - 5, y(tick) + 4, tick));
  }
  for (const [t, label, year] of points.length ? dateTicks(start, end) : []) {
    const at = x(t);
    const [tx, anchor] = at > WIDTH - 22 ? [WIDTH - 2, 'end'] : at < LEFT + 8 ? [at - 6, 'start'] : [at, 'middle'];
    svg.append(h('svg:line', { x1: at, x2: at, y1: TOP, y2: BOTTOM + 3, class: 'grid' }),
      text(tx, BOTTOM + 14, label, anchor), text(tx, BOTTOM + 26, year, anchor));
  }
  for (const line of lines) {
    svg.append(h('svg:line', { x1: LEFT, x2: RIGHT, y1: y(line.value), y2: y(line.value), class: `ref ref-${line.kind}` },
      h('svg:title', {}, line.label)));
  }

  const stops = [];
  const add = (t, el, said, at) => stops.push({ t, el, text: said, at: [at] });
  const shown = sessions.filter((s) => new Date(s.started_at) >= start && new Date(s.started_at) <= end);
  for (const session of shown) {
    const t = new Date(session.started_at).getTime();
    const named = `Treatment session: ${sessionLabel(session, treatments)}`;
    const mark = h('svg:g', { class: 'mark' }, sessionMark(x(t), TOP - 12, BOTTOM - TOP + 12), h('svg:title', {}, named));
    svg.append(mark);
    add(t, mark, named, [x(t), TOP - 10]);
  }
  const line = trend || points;
  if (line.length > 1) {
    svg.append(h('svg:polyline', { class: 'trend', points: line.map((p) => `${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ') }));
  }
  for (const point of points) {
    const at = [x(point.at.getTime()), y(point.value)];
    const dot = h('svg:circle', { cx: at[0], cy: at[1], r: points.length > 200 ? 1.8 : 4, class: 'dot' }, h('svg:title', {}, point.label));
    svg.append(dot);
    add(point.at.getTime(), dot, point.text || point.label, at);
  }
  stops.sort((a, b) => a.t - b.t);

  const legend = h('ul', { class: 'chart-legend' },
    points.length ? item(words.points || 'The line joins the scores, one dot each.',
      stroke('trend', 10, 4), h('svg:circle', { cx: 14, cy: 7, r: 3.5, class: 'dot' })) : null,
    lines.map((ref) => item(ref.label, stroke(`ref ref-${ref.kind}`))),
    shown.length ? item('Treatment session', h('svg:g', { class: 'mark' }, sessionMark(14, 4, 10))) : null);
  return readable(svg, caption, stops,
    h('p', { class: 'chart-note' }, words.lower || 'Lower is better: a lower score means fewer symptoms. The shaded bands name how a score is usually described.'), legend);
}

/** Before → after pairs per session, oldest first: [{label, pre, post (or null), text}]. */
export function pairChart({ title, pairs, max, empty = 'Nothing rated yet.' }) {
  const shown = pairs.slice(-12); // the latest twelve sessions fit a phone's width
  const slot = (RIGHT - LEFT) / Math.max(shown.length, 1);
  const y = (v) => TOP + (1 - v / max) * (BOTTOM - TOP);
  const [svg, caption] = frame('chart pairs', `${title}. ${shown.length} sessions, before and after`, 'session',
    !shown.length && empty);
  for (const tick of [0, Math.round(max / 2), max]) {
    svg.append(h('svg:line', { x1: LEFT, x2: RIGHT, y1: y(tick), y2: y(tick), class: 'grid' }), text(LEFT - 6, y(tick) + 4, tick));
  }
  const stops = [];
  for (const [index, pair] of shown.entries()) {
    const middle = LEFT + slot * (index + 0.5);
    const before = middle - Math.min(slot * 0.22, 14);
    const after = middle + Math.min(slot * 0.22, 14);
    const group = h('svg:g', { class: 'pair' }, h('svg:title', {}, pair.text));
    const at = [[middle, HEIGHT - 10]];
    if (pair.pre !== null && pair.post !== null) {
      group.append(h('svg:line', { x1: before, x2: after, y1: y(pair.pre), y2: y(pair.post), class: 'pair-line' }));
    }
    for (const [v, cx, cls, side] of [[pair.pre, before, 'pre', -1], [pair.post, after, 'post', 1]]) {
      if (v !== null) {
        group.append(h('svg:circle', { cx, cy: y(v), r: 4.5, class: cls }), text(cx + side * 7, y(v) + 4, v, side < 0 ? 'end' : 'start', 'axis value'));
        at.push([cx, y(v)]);
      }
    }
    if (shown.length <= 6 || index === 0 || index === shown.length - 1) {
      group.append(text(middle, HEIGHT - 6, pair.label, 'middle'));
    }
    svg.append(group);
    stops.push({ el: group, text: pair.text, at });
  }
  return readable(svg, caption, stops);
}

/** Arrow keys, Home and End move through `stops` ([{el, text, at: [[x, y]]}]); a pointer picks the nearest. */
function readable(svg, caption, stops, before = null, after = null) {
  let current = -1;
  const focusStop = (index) => {
    if (!stops.length) return;
    if (current >= 0) stops[current].el.classList.remove('current');
    current = Math.max(0, Math.min(stops.length - 1, index));
    stops[current].el.classList.add('current');
    caption.textContent = stops[current].text;
  };
  const nearest = (event) => {
    const { a, e, f } = svg.getScreenCTM();
    let found = -1;
    let distance = HIT / a; // in the chart's units
    for (const [index, stop] of stops.entries()) {
      for (const [sx, sy] of stop.at) {
        const gap = Math.hypot(sx - (event.clientX - e) / a, sy - (event.clientY - f) / a);
        if (gap <= distance) [found, distance] = [index, gap];
      }
    }
    if (found >= 0 && found !== current) focusStop(found);
  };
  svg.addEventListener('keydown', (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: stops.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      focusStop(current < 0 && event.key === 'ArrowRight' ? 0 : moves[event.key]);
    }
  });
  // By keyboard the latest is read at once; a tap reads what it touched instead.
  let pointed = false;
  svg.addEventListener('pointerdown', () => { pointed = true; });
  svg.addEventListener('focus', () => { if (current < 0 && !pointed) focusStop(stops.length - 1); });
  svg.addEventListener('click', (event) => { pointed = false; nearest(event); });
  svg.addEventListener('pointermove', (event) => { if (event.pointerType === 'mouse') nearest(event); });
  return h('figure', { class: 'chart-box' }, before, svg, caption, after);
}
