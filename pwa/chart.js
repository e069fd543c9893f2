// The history chart, our own SVG: bands shaded, points, sessions marked, reference lines.
// One tab stop; arrow keys move through points and sessions, and each is read out.

import { day, scoreText, sessionLabel } from './format.js';
import { h } from './ui.js';

// About one unit per CSS pixel on a phone, so that labels stay readable there.
const WIDTH = 360;
const HEIGHT = 220;
const PAD = { left: 30, right: 10, top: 16, bottom: 24 };
const DAY = 86400000;

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
 * response percentage) and the remission cut-off. `labels` names the three for the screen.
 */
export function outcomeLines(summary, labels) {
  if (!summary || !summary.baseline) return [];
  const { thresholds } = summary;
  const base = summary.baseline.total;
  const lines = [{ value: base, label: labels.baseline, kind: 'baseline' }];
  if (thresholds.min_baseline === null || base >= thresholds.min_baseline) {
    const response = Math.round(base * (100 - thresholds.response_percent)) / 100;
    lines.push({ value: response, label: labels.response, kind: 'response' });
    lines.push({ value: thresholds.remission_max, label: labels.remission, kind: 'remission' });
  }
  return lines;
}

/**
 * points: [{at: Date, value, label}], sessions: [{started_at, treatment, dose_mg}] named
 * with `treatments` (the vocabulary), lines: [{value, label, kind}], bands: [{min, max, label}], max.
 */
export function chart({ title, points, sessions = [], treatments = [], lines = [], bands = [], max }) {
  const first = points.length ? points[0].at.getTime() : Date.now() - DAY * 30;
  const last = points.length ? points[points.length - 1].at.getTime() : Date.now();
  // A little room either side, and a week around a single point, so no point sits on an edge.
  const margin = Math.max((last - first) * 0.03, last === first ? 3.5 * DAY : DAY / 2);
  const start = first - margin;
  const end = last + margin;
  const span = end - start;
  const x = (t) => PAD.left + ((t - start) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - v / max) * (HEIGHT - PAD.top - PAD.bottom);

  const caption = h('p', { class: 'chart-caption', 'aria-live': 'polite' },
    points.length ? 'Use the arrow keys to read each point.' : 'No scores yet.');
  const svg = h('svg:svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart',
    role: 'application',
    tabindex: '0',
    'aria-roledescription': 'chart',
    'aria-label': `${title}. ${points.length} points. Use the left and right arrow keys to read each point and session.`,
  });

  for (const [index, band] of bands.entries()) {
    const top = y(Math.min(max, band.max + 0.5));
    const bottom = y(Math.max(0, band.min - 0.5));
    svg.append(h('svg:rect', {
      x: PAD.left, y: top, width: WIDTH - PAD.left - PAD.right, height: Math.max(0, bottom - top),
      class: `band band-${index}`,
    }, h('svg:title', {}, band.label)));
  }
  for (const tick of [0, Math.round(max / 2), max]) {
    svg.append(h('svg:text', { x: PAD.left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, String(tick)));
  }
  if (points.length) {
    svg.append(h('svg:text', { x: PAD.left, y: HEIGHT - 6, class: 'axis' }, day(points[0].at)));
    if (points.length > 1) {
      svg.append(h('svg:text', { x: WIDTH - PAD.right, y: HEIGHT - 6, class: 'axis', 'text-anchor': 'end' },
        day(points[points.length - 1].at)));
    }
  }
  for (const line of lines) {
    svg.append(h('svg:line', {
      x1: PAD.left, x2: WIDTH - PAD.right, y1: y(line.value), y2: y(line.value), class: `ref ref-${line.kind}`,
    }, h('svg:title', {}, `${line.label}: ${scoreText(line.value)}`)));
  }

  const stops = [];
  const inRange = sessions.filter((s) => {
    const t = new Date(s.started_at).getTime();
    return t >= start && t <= end;
  });
  for (const session of inRange) {
    const t = new Date(session.started_at).getTime();
    const mark = h('svg:g', { class: 'session' },
      h('svg:line', { x1: x(t), x2: x(t), y1: PAD.top, y2: HEIGHT - PAD.bottom }),
      h('svg:path', { d: `M${x(t) - 5},${PAD.top - 12} h10 l-5,8 z` }),
      h('svg:title', {}, sessionLabel(session, treatments)));
    svg.append(mark);
    stops.push({ t, el: mark, text: sessionLabel(session, treatments) });
  }

  if (points.length > 1) {
    svg.append(h('svg:polyline', {
      class: 'trend', points: points.map((p) => `${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '),
    }));
  }
  const dots = document.createDocumentFragment();
  for (const point of points) {
    const dot = h('svg:circle', { cx: x(point.at.getTime()), cy: y(point.value), r: points.length > 200 ? 1.8 : 3.5, class: 'dot' },
      h('svg:title', {}, point.label));
    dots.append(dot);
    stops.push({ t: point.at.getTime(), el: dot, text: point.label });
  }
  svg.append(dots);
  stops.sort((a, b) => a.t - b.t);

  return readable(svg, caption, stops);
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
    shown.length ? 'Use the arrow keys to read each session.' : empty);
  const svg = h('svg:svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart pairs',
    role: 'application',
    tabindex: '0',
    'aria-roledescription': 'chart',
    'aria-label': `${title}. ${shown.length} sessions, before and after. Use the left and right arrow keys to read each one.`,
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
    stops.push({ el: group, text: pair.text });
  }
  return readable(svg, caption, stops);
}

/**
 * One tab stop for the whole chart: the arrow keys (and Home, End) move through `stops`
 * ([{el, text}]), the pointer too, and each stop's text is read out in the caption.
 */
function readable(svg, caption, stops) {
  let current = -1;
  const focusStop = (index) => {
    if (!stops.length) return;
    if (current >= 0) stops[current].el.classList.remove('current');
    current = Math.max(0, Math.min(stops.length - 1, index));
    stops[current].el.classList.add('current');
    caption.textContent = stops[current].text;
  };
  svg.addEventListener('keydown', (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: stops.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      focusStop(current < 0 && event.key === 'ArrowRight' ? 0 : moves[event.key]);
    }
  });
  svg.addEventListener('focus', () => { if (current < 0) focusStop(stops.length - 1); });
  for (const [index, stop] of stops.entries()) stop.el.addEventListener('mouseenter', () => focusStop(index));
  return h('figure', { class: 'chart-box' }, svg, caption);
}
