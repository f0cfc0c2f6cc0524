// Ordered lists in forms: add, remove, move up and down, all by keyboard too.

import { h, replace, uid } from './dom.js';

/**
 * An ordered list widget. `makeRow(value, index)` returns {nodes: [...], read(): value,
 * focus()}. Returns {el, read()}: `read()` gives the values in order.
 */
export function orderedList({ name, legend, values, makeRow, addControls, itemLabel }) {
  let rows = values.map((value) => ({ value, row: null }));
  const list = h('ol', { class: 'ordered' });
  const errorEl = h('p', { class: 'field-error', hidden: true });

  function sync() {
    for (const entry of rows) if (entry.row) entry.value = entry.row.read();
  }

  function render(focus) {
    sync();
    replace(list, rows.map((entry, index) => {
      entry.row = makeRow(entry.value, index);
      const label = `${itemLabel} ${index + 1}`;
      const move = (delta) => () => {
        sync();
        const to = index + delta;
        [rows[index], rows[to]] = [rows[to], rows[index]];
        render({ index: to, action: delta < 0 ? 'up' : 'down' });
      };
      const remove = () => {
        sync();
        rows.splice(index, 1);
        render({ index: Math.min(index, rows.length - 1), action: 'remove' });
      };
      return h('li', { dataset: { field: `${name}[${index}]` } },
        h('div', { class: 'row-fields' }, entry.row.nodes),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'icon', dataset: { action: 'up' }, disabled: index === 0, 'aria-label': `Move ${label} up`, onclick: move(-1) }, '↑'),
          h('button', { type: 'button', class: 'icon', dataset: { action: 'down' }, disabled: index === rows.length - 1, 'aria-label': `Move ${label} down`, onclick: move(1) }, '↓'),
          h('button', { type: 'button', class: 'icon danger', dataset: { action: 'remove' }, 'aria-label': `Remove ${label}`, onclick: remove }, '✕')),
        h('p', { class: 'field-error', hidden: true }));
    }));
    if (focus && rows.length) {
      const li = list.children[focus.index];
      const target = li?.querySelector(`[data-action="${focus.action}"]:not([disabled])`) || li?.querySelector('input, select, button:not([disabled])');
      target?.focus();
    }
  }

  function add(value) {
    sync();
    rows.push({ value, row: null });
    render();
    rows[rows.length - 1].row.focus?.();
  }

  render();
  const el = h('fieldset', { class: 'list-field', dataset: { field: name } },
    h('legend', {}, legend), list, errorEl, addControls(add));
  return {
    el,
    read() {
      sync();
      return rows.map((entry) => entry.value);
    },
    reset(next) {
      rows = next.map((value) => ({ value, row: null }));
      render();
    },
  };
}

/** A list of single lines (features, benefits). */
export function lineList(name, legend, values, itemLabel) {
  return orderedList({
    name, legend, values, itemLabel,
    makeRow(value, index) {
      const input = h('input', { value, 'aria-label': `${itemLabel} ${index + 1}` });
      return { nodes: [input], read: () => input.value, focus: () => input.focus() };
    },
    addControls: (add) => h('button', { type: 'button', onclick: () => add('') }, `Add ${itemLabel.toLowerCase()}`),
  });
}

/** A select of `options` ([value, label]) with the current value chosen. */
export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** A labelled select, compact, for a row. */
export function rowSelect(label, options, value, fullLabel = label) {
  const control = select(options, value, { 'aria-label': fullLabel });
  control.id = uid();
  return { control, node: h('label', { class: 'inline', for: control.id }, h('span', {}, label), control) };
}

