// Readable differences between two versions of a document, field by field.

import { h } from './dom.js';

/** Line diff (longest common subsequence): [{op: ' '|'-'|'+', line}]. */
export function lineDiff(before, after) {
  const a = String(before ?? '').split('\n');
  const b = String(after ?? '').split('\n');
  // Past a few thousand lines the table gets big: show it as replaced.
  if (a.length * b.length > 4_000_000) {
    return [...a.map((line) => ({ op: '-', line })), ...b.map((line) => ({ op: '+', line }))];
  }
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push({ op: ' ', line: a[i] }); i += 1; j += 1; }
    else if (table[i + 1][j] >= table[i][j + 1]) { out.push({ op: '-', line: a[i] }); i += 1; }
    else { out.push({ op: '+', line: b[j] }); j += 1; }
  }
  while (i < a.length) { out.push({ op: '-', line: a[i] }); i += 1; }
  while (j < b.length) { out.push({ op: '+', line: b[j] }); j += 1; }
  return out;
}

/**
 * The fields that differ between `before` and `after` (objects of display strings, keyed as
 * in `labels`: [[key, label]]), as a definition list with a line diff per field. Lines
 * only in `before` are marked removed, lines only in `after` added.
 */
export function fieldDiff(labels, before, after, { beforeName = 'before', afterName = 'after' } = {}) {
  const changed = labels.filter(([key]) => (before[key] ?? '') !== (after[key] ?? ''));
  if (changed.length === 0) return h('p', { class: 'empty' }, 'No differences.');
  return h('dl', { class: 'diff' }, changed.flatMap(([key, label]) => [
    h('dt', {}, label),
    h('dd', {}, h('pre', { class: 'diff-lines', 'aria-label': `${label}: lines marked minus are ${beforeName}, plus are ${afterName}` },
      lineDiff(before[key], after[key]).map(({ op, line }) => h('span', {
        class: op === '-' ? 'del' : op === '+' ? 'ins' : 'same',
      }, `${op} ${line}\n`)))),
  ]));
}
