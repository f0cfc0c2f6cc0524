// Every condition and side effect (any status), for the topic editor's pickers and for
// showing a revision's links by name. Pages through the lists, so none is left out past the
// API's page size.

import { gql } from './api.js';
import { STATUSES } from './kinds.js';

const PAGE = `first: 100, after: $after, filter: { status: [${STATUSES.join(', ')}] }`;

async function all(list) {
  const nodes = [];
  let after = null;
  for (;;) {
    const data = await gql(`query($after: String) { ${list}(${PAGE}) {
      pageInfo { hasNextPage endCursor } edges { node { id name status } } } }`, { after });
    nodes.push(...data[list].edges.map((e) => e.node));
    if (!data[list].pageInfo.hasNextPage) return nodes;
    after = data[list].pageInfo.endCursor;
  }
}

/** {conditions, sideEffects}: every one, as {id, name, status}, by name. */
export async function linkTargets() {
  const [conditions, sideEffects] = await Promise.all([all('conditions'), all('sideEffects')]);
  return { conditions, sideEffects };
}
