// A session's vital signs, our own SVG: for the clinician's monitoring form and session sheet
// only, so it is kept out of the patient's precached chart module.

import { h } from './ui.js';

/**
 * A session's vital signs over time, our own SVG: systolic and diastolic pressure as lines
 * (heart rate dashed, on the same scale), the dose marked, the clinic's raised-pressure
 * thresholds as steps at the dose, and raised readings ringed and named. The table beside it
 * carries every number; this is the picture. `record` is the API's monitoring record.
 */
export function vitalsChart(record, startedAt, { title = 'Vital signs', compact = false } = {}) {
  const width = 560;
  const height = compact ? 200 : 260;
  const pad = { left: 40, right: 12, top: 14, bottom: 26 };
  const vitals = record.vitals;
  const start = new Date(startedAt).getTime();
  const times = vitals.map((v) => new Date(v.at).getTime());
  const first = Math.min(start, ...times) - 5 * 60000;
  const last = Math.max(start + 30 * 60000, ...times) + 5 * 60000;
  const highest = Math.max(200, ...vitals.map((v) => v.systolic + 10), ...vitals.map((v) => (v.heart_rate || 0) + 10));
  const lowest = Math.min(40, ...vitals.map((v) => v.diastolic - 10), ...vitals.map((v) => (v.heart_rate || 999) - 10));
  const x = (t) => pad.left + ((t - first) / (last - first)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - lowest) / (highest - lowest)) * (height - pad.top - pad.bottom);
  const clock = (t) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const raisedCount = vitals.filter((v) => v.raised).length;
  const svg = h('svg:svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart vitals-chart', role: 'img',
    'aria-label': vitals.length
      ? `${title}: ${vitals.length} readings from ${clock(times[0])} to ${clock(times[times.length - 1])}, ${raisedCount} raised. The table lists every reading.`
      : `${title}: no readings yet.`,
  });
  for (const tick of [60, 100, 140, 180].filter((t) => t > lowest && t < highest)) {
    svg.append(h('svg:line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid-line' }),
      h('svg:text', { x: pad.left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, String(tick)));
  }
  svg.append(h('svg:text', { x: pad.left, y: height - 8, class: 'axis' }, clock(first + 5 * 60000)),
    h('svg:text', { x: width - pad.right, y: height - 8, class: 'axis', 'text-anchor': 'end' }, clock(last - 5 * 60000)));
  // The thresholds step up at the dose: the before-dosing ones apply only before it.
  const limits = record.thresholds;
  for (const [kind, label] of [['systolic', 'Systolic'], ['diastolic', 'Diastolic']]) {
    const before = limits.before_dosing[kind];
    const always = limits.any_time[kind];
    const points = [[x(first), y(Math.min(before, always))], [x(start), y(Math.min(before, always))], [x(start), y(always)], [x(last), y(always)]];
    svg.append(h('svg:polyline', { class: 'threshold', points: points.map((p) => p.map((n) => n.toFixed(1)).join(',')).join(' ') },
      h('svg:title', {}, `${label} raised above ${before} before dosing, ${always} at any time`)));
  }
  svg.append(h('svg:g', { class: 'session' },
    h('svg:line', { x1: x(start), x2: x(start), y1: pad.top, y2: height - pad.bottom }),
    h('svg:text', { x: x(start) + 4, y: pad.top + 10, class: 'axis dose-label' }, 'Dose')));
  const series = [
    ['systolic', 'Systolic', 'vital-systolic'],
    ['diastolic', 'Diastolic', 'vital-diastolic'],
    ['heart_rate', 'Heart rate', 'vital-heart-rate'],
  ];
  for (const [key, label, className] of series) {
    const taken = vitals.filter((v) => v[key] !== null && v[key] !== undefined);
    if (taken.length > 1) {
      svg.append(h('svg:polyline', {
        class: `vital-line ${className}`,
        points: taken.map((v) => `${x(new Date(v.at).getTime()).toFixed(1)},${y(v[key]).toFixed(1)}`).join(' '),
      }));
    }
    for (const v of taken) {
      const raised = v.raised && key !== 'heart_rate';
      svg.append(h('svg:circle', {
        cx: x(new Date(v.at).getTime()), cy: y(v[key]), r: raised ? 5.5 : 3.5,
        class: `vital-dot ${className}${raised ? ' raised' : ''}`,
      }, h('svg:title', {}, `${clock(v.at)} ${label} ${v[key]}${raised ? ' (raised)' : ''}`)));
    }
  }
  const legend = h('ul', { class: 'vitals-legend', 'aria-hidden': 'true' },
    h('li', { class: 'vital-systolic' }, 'Systolic'),
    h('li', { class: 'vital-diastolic' }, 'Diastolic'),
    h('li', { class: 'vital-heart-rate' }, 'Heart rate'),
    h('li', { class: 'raised' }, 'Raised'),
    h('li', { class: 'threshold' }, 'Threshold'));
  return h('figure', { class: 'chart-box vitals-box' }, svg, legend);
}
