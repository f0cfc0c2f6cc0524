// The three-way merge of the conflict dialog (admin-ui/js/merge.js), without a browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { merge } from '../../admin-ui/js/merge.js';

const links = { conditions: (c) => c.id, references: (r) => r.title };
const base = {
  title: 'Microneedling',
  summary: 'Tiny needles.',
  features: ['Quick', 'Safe', 'Cheap'],
  references: [{ title: 'Overview', url: '' }],
  conditions: [{ id: '1', note: '' }, { id: '2', note: '' }],
};
const edit = (changes) => ({ ...structuredClone(base), ...changes });

test('fields one side changed merge by themselves', () => {
  const { merged, conflicts } = merge(base, edit({ title: 'Theirs' }), edit({ summary: 'Mine.' }), links);
  assert.deepEqual(conflicts, []);
  assert.equal(merged.title, 'Theirs');
  assert.equal(merged.summary, 'Mine.');
});

test('the same field changed differently is a conflict; changed alike is not', () => {
  assert.deepEqual(merge(base, edit({ summary: 'A.' }), edit({ summary: 'B.' }), links).conflicts, ['summary']);
  assert.deepEqual(merge(base, edit({ summary: 'A.' }), edit({ summary: 'A.' }), links).conflicts, []);
});

test('lists merge item by item', () => {
  // In place, different items: both kept.
  let { merged, conflicts } = merge(base, edit({ features: ['Quick!', 'Safe', 'Cheap'] }), edit({ features: ['Quick', 'Safe', 'Cheap!'] }), links);
  assert.deepEqual([merged.features, conflicts], [['Quick!', 'Safe', 'Cheap!'], []]);
  // In place, the same item: conflict.
  assert.deepEqual(merge(base, edit({ features: ['A', 'Safe', 'Cheap'] }), edit({ features: ['B', 'Safe', 'Cheap'] }), links).conflicts, ['features']);
  // One adds, the other removes another: both happen.
  ({ merged, conflicts } = merge(base, edit({ features: ['Quick', 'Cheap'] }), edit({ features: ['Quick', 'Safe', 'Cheap', 'New'] }), links));
  assert.deepEqual([merged.features, conflicts], [['Quick', 'Cheap', 'New'], []]);
  // Links: they add a condition, I change another's note; one removes what the other changed: conflict.
  ({ merged, conflicts } = merge(base, edit({ conditions: [...base.conditions, { id: '3', note: '' }] }), edit({ conditions: [{ id: '1', note: 'Mine' }, { id: '2', note: '' }] }), links));
  assert.deepEqual([merged.conditions, conflicts], [[{ id: '1', note: 'Mine' }, { id: '2', note: '' }, { id: '3', note: '' }], []]);
  assert.deepEqual(merge(base, edit({ conditions: [{ id: '2', note: '' }] }), edit({ conditions: [{ id: '1', note: 'Mine' }, { id: '2', note: '' }, { id: '4', note: '' }] }), links).conflicts, ['conditions']);
  // Order: only I moved: mine; both moved differently: conflict.
  const swapped = [{ id: '2', note: '' }, { id: '1', note: '' }];
  ({ merged } = merge(base, edit({ conditions: [...base.conditions, { id: '3', note: '' }] }), edit({ conditions: swapped }), links));
  assert.deepEqual(merged.conditions.map((c) => c.id), ['2', '1', '3']);
});
