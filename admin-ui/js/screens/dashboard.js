// The dashboard: counts by status and the recently edited documents.

import { h, replace, when, badge } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { KINDS, STATUSES } from '../kinds.js';
import { pageHeader } from '../ui.js';

const kinds = [KINDS.topics, KINDS.conditions, KINDS['side-effects']];

function countsQuery() {
  const parts = [];
  for (const kind of kinds) {
    for (const status of STATUSES) {
      parts.push(`${kind.list}_${status}: ${kind.list}(first: 0, filter: { status: [${status}] }) { totalCount }`);
    }
    const label = kind.labelField;
    parts.push(`${kind.list}_recent: ${kind.list}(first: 5, filter: { status: [DRAFT, PUBLISHED, ARCHIVED] }, orderBy: { field: UPDATED_AT, direction: DESC }) { edges { node { id ${label} status updatedAt } } }`);
  }
  return `{ ${parts.join('\n')} }`;
}

/** Shows the dashboard. */
export async function dashboardScreen(main) {
  const data = await gql(countsQuery());
  const recent = kinds.flatMap((kind) => data[`${kind.list}_recent`].edges.map(({ node }) => ({ kind, node })))
    .sort((a, b) => Date.parse(b.node.updatedAt) - Date.parse(a.node.updatedAt))
    .slice(0, 8);
  replace(main,
    pageHeader(`Hello, ${currentUser().displayName}`,
      h('a', { class: 'button primary', href: '#/topics/new' }, 'New topic')),
    h('section', { 'aria-labelledby': 'counts-title' },
      h('h2', { id: 'counts-title' }, 'Content'),
      h('div', { class: 'cards' }, kinds.map((kind) => h('a', { class: 'card stat', href: `#/${kind.route}` },
        h('h3', {}, kind.label),
        h('dl', {}, STATUSES.map((status) => [
          h('dt', {}, status.toLowerCase()),
          h('dd', { dataset: { count: `${kind.route}-${status.toLowerCase()}` } }, String(data[`${kind.list}_${status}`].totalCount)),
        ])))))),
    h('section', { 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, 'Recently edited'),
      recent.length === 0
        ? h('p', { class: 'empty' }, 'Nothing yet. Start with a new topic.')
        : h('ul', { class: 'recent' }, recent.map(({ kind, node }) => h('li', {},
          h('a', { href: `#/${kind.route}/${node.id}` }, node[kind.labelField]),
          ' ', h('span', { class: 'muted' }, kind.one), ' ', badge(node.status), ' ',
          h('span', { class: 'muted' }, when(node.updatedAt)))))));
}
