// The dashboard: what waits for review (and what is overdue), counts by status, the
// recently edited documents and what is scheduled.

import { h, replace, when, badge } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { KINDS, STATUSES, kindOfType } from '../kinds.js';
import { pageHeader } from '../ui.js';

const kinds = [KINDS.topics, KINDS.conditions, KINDS['side-effects']];

function countsQuery() {
  const parts = [];
  for (const kind of kinds) {
    for (const status of kind.statuses) {
      parts.push(`${kind.list}_${status}: ${kind.list}(first: 0, filter: { status: [${status}] }) { totalCount }`);
    }
    const label = kind.labelField;
    parts.push(`${kind.list}_recent: ${kind.list}(first: 5, filter: { status: [${STATUSES.join(', ')}] }, orderBy: { field: UPDATED_AT, direction: DESC }) { edges { node { id ${label} status updatedAt } } }`);
  }
  const part = 'totalCount topics { id title status updatedAt reviewDueAt }';
  parts.push(`reviewQueue { waiting { ${part} } approved { ${part} } overdue { ${part} } unapprovedPublished { ${part} } }`);
  parts.push('schedules(first: 5) { id action at documentType documentId documentTitle }');
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
    reviewSection(data.reviewQueue),
    scheduledSection(data.schedules),
    h('section', { 'aria-labelledby': 'counts-title' },
      h('h2', { id: 'counts-title' }, 'Content'),
      h('div', { class: 'cards' }, kinds.map((kind) => h('a', { class: 'card stat', href: `#/${kind.route}` },
        h('h3', {}, kind.label),
        h('dl', {}, kind.statuses.map((status) => [
          h('dt', {}, status.toLowerCase().replace(/_/g, ' ')),
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

/** One part of the review queue: a heading with its count, and its first topics. */
function queuePart(id, title, part, describe) {
  return h('div', { class: 'card queue', dataset: { queue: id } },
    h('h3', {}, `${title} `, h('span', { class: 'count' }, `(${part.totalCount})`)),
    part.totalCount === 0
      ? h('p', { class: 'muted' }, 'Nothing.')
      : h('ul', {}, part.topics.slice(0, 10).map((topic) => h('li', {},
        h('a', { href: `#/topics/${topic.id}` }, topic.title), ' ',
        h('span', { class: 'muted' }, describe(topic))))));
}

/** What waits for the reviewers and the editors. */
function reviewSection(queue) {
  return h('section', { 'aria-labelledby': 'review-title' },
    h('h2', { id: 'review-title' }, 'Medical review'),
    h('div', { class: 'cards' },
      queuePart('waiting', 'Waiting for review', queue.waiting, (t) => `submitted ${when(t.updatedAt)}`),
      queuePart('approved', 'Approved, not published', queue.approved, (t) => `approved ${when(t.updatedAt)}`),
      queuePart('overdue', 'Review overdue', queue.overdue, (t) => `due ${when(t.reviewDueAt)}`),
      queuePart('changed', 'Published without current approval', queue.unapprovedPublished, (t) => `edited ${when(t.updatedAt)}`)));
}

/** The next scheduled publications. */
function scheduledSection(schedules) {
  return h('section', { 'aria-labelledby': 'scheduled-title' },
    h('h2', { id: 'scheduled-title' }, 'Scheduled'),
    schedules.length === 0
      ? h('p', { class: 'empty' }, 'Nothing is scheduled.')
      : h('ul', { class: 'recent' }, schedules.map((s) => {
        const kind = kindOfType(s.documentType);
        return h('li', {}, h('strong', {}, s.action === 'PUBLISH' ? 'Publish' : 'Unpublish'), ' ',
          h('a', { href: `#/${kind.route}/${s.documentId}` }, s.documentTitle ?? '(deleted)'), ' ',
          h('span', { class: 'muted' }, when(s.at)));
      })),
    h('p', {}, h('a', { href: '#/scheduled' }, 'All schedules')));
}
