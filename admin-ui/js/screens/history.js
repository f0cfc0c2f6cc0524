// A document's history: every saved version, a readable difference to the version before
// it, and restoring an old version as a new one.

import { h, replace, when } from '../dom.js';
import { gql } from '../api.js';
import { words } from '../kinds.js';
import { linkTargets } from '../catalog.js';
import { fieldDiff } from '../diff.js';
import { pageHeader, say, alertError, confirmAction, empty } from '../ui.js';
import { go } from '../nav.js';

const TOPIC_LABELS = [
  ['title', 'Title'], ['slug', 'Slug'], ['status', 'Status'], ['summary', 'Summary'], ['body', 'Body'],
  ['features', 'Features'], ['benefits', 'Benefits'], ['references', 'References'],
  ['conditions', 'Conditions'], ['sideEffects', 'Side effects'], ['reviewed', 'Medical review'],
];
const NAMED_LABELS = [['name', 'Name'], ['slug', 'Slug'], ['status', 'Status'], ['description', 'Description']];

/** Names of every condition and side effect, to show links by name. */
async function names() {
  const targets = await linkTargets();
  const map = (nodes) => new Map(nodes.map((node) => [String(node.id), node.name]));
  return { conditions: map(targets.conditions), sideEffects: map(targets.sideEffects) };
}

/** A snapshot as display strings per field; `people` names users by id. */
function readable(kind, snapshot, lookup, people) {
  if (kind.type !== 'TOPIC') {
    return { name: snapshot.name, slug: snapshot.slug, status: words(snapshot.status), description: snapshot.description };
  }
  const topic = snapshot.topic || {};
  const name = (map, id) => map.get(String(id)) || `(deleted #${id})`;
  return {
    title: topic.title,
    slug: topic.slug,
    status: words(topic.status),
    summary: topic.summary,
    body: topic.body,
    features: (topic.features || []).join('\n'),
    benefits: (topic.benefits || []).join('\n'),
    references: (topic.references || []).map((r) => (r.url ? `${r.title} <${r.url}>` : r.title)).join('\n'),
    conditions: (snapshot.conditions || []).map((c) => `${name(lookup.conditions, c.conditionId)}${c.note ? ` (${c.note})` : ''}`).join('\n'),
    sideEffects: (snapshot.sideEffects || []).map((s) => `${name(lookup.sideEffects, s.sideEffectId)}: ${words(s.frequency)}, ${words(s.severity)}, ${words(s.duration)}${s.note ? ` (${s.note})` : ''}`).join('\n'),
    reviewed: topic.reviewedAt
      ? `${new Date(topic.reviewedAt).toLocaleString()}${topic.reviewedBy != null ? ` by ${people.get(String(topic.reviewedBy)) || `user #${topic.reviewedBy}`}` : ''}`
      : '',
  };
}

/** Shows the history of document `id` of `kind`. */
export async function historyScreen(main, kind, id) {
  const [data, lookup] = await Promise.all([
    gql(`query($type: DocumentType!, $id: ID!) {
      revisions(documentType: $type, documentId: $id, first: 100) { edges { node { id version createdAt message author { id displayName } snapshot } } }
      current: ${kind.single}(id: $id, preview: true) { id version ${kind.labelField} }
    }`, { type: kind.type, id }),
    names(),
  ]);
  const revisions = data.revisions.edges.map((e) => e.node);
  // A reviewer marks the review when saving, so every reviewer is among the authors.
  const people = new Map(revisions.filter((r) => r.author).map((r) => [String(r.author.id), r.author.displayName]));
  const current = data.current;
  const labels = kind.type === 'TOPIC' ? TOPIC_LABELS : NAMED_LABELS;
  const title = current ? current[kind.labelField] : `Deleted ${kind.one}`;
  const detail = h('section', { class: 'revision-detail', 'aria-live': 'polite' });

  function showRevision(index) {
    const revision = revisions[index];
    const previous = revisions[index + 1];
    const after = readable(kind, revision.snapshot, lookup, people);
    const before = previous ? readable(kind, previous.snapshot, lookup, people) : Object.fromEntries(labels.map(([k]) => [k, '']));
    for (const button of main.querySelectorAll('.revisions button[aria-pressed]')) { // main: this screen's view
      button.setAttribute('aria-pressed', String(button.dataset.index === String(index)));
    }
    const restorable = current && revision.version !== current.version;
    replace(detail,
      h('h2', {}, `Version ${revision.version}`),
      h('p', { class: 'muted' }, previous ? `Changes since version ${previous.version}:` : 'The first version:'),
      fieldDiff(labels, before, after, { beforeName: `version ${previous?.version ?? 0}`, afterName: `version ${revision.version}` }),
      restorable ? h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'primary',
        onclick: () => restore(revision),
      }, `Restore version ${revision.version}`)) : null);
  }

  async function restore(revision) {
    const ok = await confirmAction(`Restore version ${revision.version}?`,
      `Its content comes back as a new version ${current.version + 1}; the history keeps every version. The status stays as it is.`,
      'Restore', 'primary');
    if (!ok) return;
    try {
      await gql(`mutation($input: RestoreRevisionInput!) { restoreRevision(input: $input) { document { __typename } } }`,
        { input: { revisionId: revision.id, expectedVersion: current.version } });
      say(`Restored version ${revision.version} as version ${current.version + 1}.`);
      await go(`#/${kind.route}/${id}`);
    } catch (error) {
      alertError(error.code === 'CONFLICT' ? 'Someone saved meanwhile. Reload the history and try again.' : error.message);
    }
  }

  replace(main,
    pageHeader(`History: ${title}`, current ? h('a', { class: 'button', href: `#/${kind.route}/${id}` }, 'Back to the editor') : null),
    revisions.length === 0 ? empty('No versions recorded.') : h('div', { class: 'history' },
      h('ol', { class: 'revisions', 'aria-label': 'Versions, newest first' }, revisions.map((revision, index) => h('li', {},
        h('button', { type: 'button', class: 'revision', 'aria-pressed': 'false', dataset: { index: String(index) }, onclick: () => showRevision(index) },
          h('strong', {}, `Version ${revision.version}`), ' ',
          h('span', { class: 'muted' }, `${when(revision.createdAt)} · ${revision.author?.displayName ?? 'sample content'}`),
          revision.message ? h('span', { class: 'message' }, ` · ${revision.message}`) : null)))),
      detail));
  if (revisions.length) showRevision(0);
}
