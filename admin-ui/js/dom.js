// Building DOM nodes. Text is always set as text, never parsed as HTML: content from the
// API (titles, names, notes) can hold anything, and must display literally.

/**
 * Creates an element. `attrs` sets attributes and properties (`on*` functions become
 * listeners, `dataset`/`aria` objects expand, `false`/null values are skipped); children are
 * nodes or strings (strings become text nodes).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (nodes, strings, arrays of them; null is skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let ids = 0;
/** A unique id for label/field pairs. */
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: `control` is an input/select/textarea (given an id here). */
export function field(label, control, { hint, name } = {}) {
  control.id ||= uid();
  const error = h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  const described = [hintEl?.id, error.id].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  return h('div', { class: 'field', dataset: name ? { field: name } : {} },
    h('label', { for: control.id }, label), control, hintEl, error);
}

/** Formats an RFC 3339 time for people. */
export function when(value) {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** A status badge. */
export function badge(status) {
  const name = String(status).toLowerCase();
  return h('span', { class: `badge badge-${name.replace(/_/g, '-')}` }, name.replace(/_/g, ' '));
}
