// Lists of topics, conditions or side effects: search, status filter, sort, pages.

import { h, replace, when, badge, field } from '../dom.js';
import { gql } from '../api.js';
import { pageHeader, empty } from '../ui.js';
import { go } from '../nav.js';

const PAGE = 20;

/** The filter control to focus once the list it applied is drawn. */
let refocus = null;

function listQuery(kind) {
  const filterType = kind.list === 'topics' ? 'TopicFilter' : 'NameFilter';
  const orderType = kind.list === 'topics' ? 'TopicOrder' : 'NameOrder';
  return `query($first: Int, $after: String, $last: Int, $before: String, $filter: ${filterType}, $orderBy: ${orderType}) {
    ${kind.list}(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { id slug ${kind.labelField} status updatedAt publishedAt } }
    }
  }`;
}

/** Shows a list; its state (search, status, sort, page) lives in the address. */
export async function listScreen(main, kind, query) {
  const search = query.get('q') || '';
  const status = query.get('status') || '';
  const sort = query.get('sort') || `${kind.orderFields[0][0]}:ASC`;
  const [orderField, direction] = sort.split(':');
  const variables = {
    filter: { status: status ? [status] : kind.statuses, ...(search ? { search } : {}) },
    orderBy: { field: orderField, direction: direction === 'DESC' ? 'DESC' : 'ASC' },
  };
  if (query.get('before')) Object.assign(variables, { last: PAGE, before: query.get('before') });
  else Object.assign(variables, { first: PAGE, after: query.get('after') || null });
  const data = (await gql(listQuery(kind), variables))[kind.list];

  const address = (changes) => {
    const next = new URLSearchParams({ q: search, status, sort, ...changes });
    for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
    const text = next.toString();
    return `#/${kind.route}${text ? `?${text}` : ''}`;
  };

  const searchInput = h('input', { type: 'search', name: 'q', value: search, placeholder: `Search ${kind.label.toLowerCase()}` });
  const statusSelect = h('select', { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    kind.statuses.map((s) => h('option', { value: s, selected: s === status }, s.toLowerCase().replace(/_/g, ' '))));
  const sortSelect = h('select', { name: 'sort' }, kind.orderFields.flatMap(([value, label]) => [
    h('option', { value: `${value}:ASC`, selected: sort === `${value}:ASC` }, `${label}, ascending`),
    h('option', { value: `${value}:DESC`, selected: sort === `${value}:DESC` }, `${label}, descending`),
  ]));
  const filters = h('form', { class: 'filters', role: 'search' },
    field('Search', searchInput),
    field('Status', statusSelect),
    field('Sort by', sortSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    // The list is drawn anew: focus comes back to the control that applied it.
    refocus = event.submitter?.textContent === 'Apply' ? 'apply' : document.activeElement?.name ?? null;
    go(address({ q: searchInput.value.trim(), status: statusSelect.value, sort: sortSelect.value }));
  });
  // A choice made with the mouse applies at once; arrow keys only move through the options
  // (Enter or Apply applies), so a keyboard user is not sent a new list at every step.
  for (const select of [statusSelect, sortSelect]) {
    let keyboard = false;
    select.addEventListener('keydown', (event) => {
      keyboard = event.key !== 'Enter';
      if (event.key === 'Enter') {
        event.preventDefault();
        filters.requestSubmit();
      }
    });
    select.addEventListener('pointerdown', () => { keyboard = false; });
    select.addEventListener('change', () => { if (!keyboard) filters.requestSubmit(); });
  }

  const rows = data.edges.map(({ node }) => h('tr', {},
    h('td', {}, h('a', { href: `#/${kind.route}/${node.id}` }, node[kind.labelField])),
    h('td', { class: 'mono' }, node.slug),
    h('td', {}, badge(node.status)),
    h('td', {}, when(node.updatedAt))));
  const table = rows.length
    ? h('table', { class: 'list' },
      h('caption', { class: 'visually-hidden' }, kind.label),
      h('thead', {}, h('tr', {}, ['Name', 'Slug', 'Status', 'Last edited'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))
    : empty(search || status ? 'Nothing matches.' : `No ${kind.label.toLowerCase()} yet.`);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    data.pageInfo.hasPreviousPage && data.pageInfo.startCursor
      ? h('a', { href: address({ before: data.pageInfo.startCursor }), rel: 'prev' }, '← Previous') : null,
    h('span', { class: 'muted' }, `${data.totalCount} in all`),
    data.pageInfo.hasNextPage && data.pageInfo.endCursor
      ? h('a', { href: address({ after: data.pageInfo.endCursor }), rel: 'next' }, 'Next →') : null);

  replace(main,
    pageHeader(kind.label, h('a', { class: 'button primary', href: `#/${kind.route}/new` }, `New ${kind.one}`)),
    filters, table, pager);
  if (refocus) {
    const target = refocus === 'apply' ? filters.querySelector('button[type="submit"]') : filters.elements.namedItem(refocus);
    refocus = null;
    // After the app has focused the new screen's heading.
    requestAnimationFrame(() => target?.focus());
  }
}
