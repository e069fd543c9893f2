// Small DOM helpers: build elements without innerHTML, announce, move focus.

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function show(root, ...nodes) {
  root.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
}

export function announce(message) {
  const live = document.getElementById('live');
  live.textContent = '';
  // A separate task, so that screen readers notice the same message twice.
  setTimeout(() => { live.textContent = message; }, 50);
}

/** Move focus to the view's heading, so a screen reader starts at the new content. */
export function focusHeading(root = document.getElementById('main')) {
  const heading = root.querySelector('h1, h2, legend');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function button(label, onClick, attrs = {}) {
  return h('button', { type: 'button', onclick: onClick, ...attrs }, label);
}

export function link(label, href, attrs = {}) {
  return h('a', { href, ...attrs }, label);
}

export function alertBox(message) {
  return h('p', { class: 'alert', role: 'alert' }, message);
}

export function paragraphs(text) {
  return String(text).split(/\n+/).filter((line) => line.trim()).map((line) => h('p', {}, line));
}
