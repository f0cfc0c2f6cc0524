// Three-way merge of a document's form state: what the editor started from (base), what
// someone else saved meanwhile (theirs) and what the editor has (mine). A field only one side
// changed takes that side; a list merges item by item; what both changed differently is a
// conflict for the editor to decide. No DOM here: the conflict dialog (editor.js) shows the
// result, and tests run it in Node.

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The merge of one value: {value} or {conflict: true}. */
function mergeValue(base, theirs, mine) {
  if (same(mine, base) || same(mine, theirs)) return { value: theirs };
  if (same(theirs, base)) return { value: mine };
  return { conflict: true };
}

/**
 * Merges lists. Items with the same identity (`identity(item)`: a link's document id; a
 * text's own value) are the same item: one removed on either side stays removed, one added on
 * either side is added (mine after theirs, at the end), one changed on one side takes that
 * change. Lists of the same length whose items both sides changed in place merge position by
 * position. Returns {value} or {conflict: true} when an item, or the order, changed on both
 * sides differently.
 */
function mergeList(base, theirs, mine, identity) {
  if (base.length === theirs.length && base.length === mine.length) {
    const merged = [];
    for (let i = 0; i < base.length; i += 1) {
      const one = mergeValue(base[i], theirs[i], mine[i]);
      if (one.conflict) return { conflict: true };
      merged.push(one.value);
    }
    return { value: merged };
  }
  const key = (item) => JSON.stringify(identity(item));
  const index = (list) => new Map(list.map((item) => [key(item), item]));
  const [b, t, m] = [index(base), index(theirs), index(mine)];
  const order = (list, keep) => list.map(key).filter((k) => keep.has(k));
  const common = new Set([...b.keys()].filter((k) => t.has(k) && m.has(k)));
  const theirsMoved = !same(order(theirs, common), order(base, common));
  const mineMoved = !same(order(mine, common), order(base, common));
  if (theirsMoved && mineMoved && !same(order(theirs, common), order(mine, common))) return { conflict: true };
  for (const [k, item] of b) {
    // Removed on one side and changed on the other: both decide.
    const kept = !t.has(k) ? m.get(k) : !m.has(k) ? t.get(k) : undefined;
    if (kept !== undefined && !same(kept, item)) return { conflict: true };
  }
  const spine = mineMoved ? mine : theirs;
  const merged = [];
  for (const item of spine) {
    const k = key(item);
    // Removed on either side: gone (a removal against a change was a conflict above).
    if (b.has(k) && (!t.has(k) || !m.has(k))) continue;
    if (!b.has(k)) {
      // Added by the side the spine is: kept as is.
      merged.push(item);
      continue;
    }
    const one = mergeValue(b.get(k), t.get(k), m.get(k));
    if (one.conflict) return { conflict: true };
    merged.push(one.value);
  }
  const other = spine === mine ? theirs : mine;
  for (const item of other) {
    const k = key(item);
    if (!b.has(k) && !merged.some((x) => key(x) === k)) merged.push(item);
  }
  return { value: merged };
}

/**
 * Merges `mine` and `theirs` from `base`. `identities` names, per list field, how its items
 * are known (absent: a text list, known by its value). Returns {merged, conflicts}: the
 * merged state (a conflicting field holds mine for now) and the keys in conflict.
 */
export function merge(base, theirs, mine, identities = {}) {
  const merged = {};
  const conflicts = [];
  for (const field of new Set([...Object.keys(base), ...Object.keys(theirs), ...Object.keys(mine)])) {
    const [b, t, m] = [base[field], theirs[field], mine[field]];
    const result = Array.isArray(b) && Array.isArray(t) && Array.isArray(m)
      ? mergeList(b, t, m, identities[field] || ((item) => item))
      : mergeValue(b, t, m);
    if (result.conflict) {
      conflicts.push(field);
      merged[field] = m;
    } else {
      merged[field] = result.value;
    }
  }
  return { merged, conflicts };
}

/** The fields `theirs` changed from `base`. */
export function changedFields(base, theirs) {
  return Object.keys(theirs).filter((field) => !same(base[field], theirs[field]));
}
