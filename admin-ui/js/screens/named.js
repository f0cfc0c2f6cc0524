// The editor of a condition or side effect: name, slug, Markdown description, and the
// topics that link to it.

import { h, replace, field } from '../dom.js';
import { Editor } from '../editor.js';
import { pageHeader } from '../ui.js';
import { words } from '../kinds.js';

const LABELS = [['name', 'Name'], ['slug', 'Slug'], ['description', 'Description']];

function selection(kind) {
  const attributes = kind.type === 'SIDE_EFFECT' ? 'frequency severity duration' : '';
  return `id slug name description status version publishedAt updatedAt
    topics { ${attributes} note node { id title status } }`;
}

const toState = (doc) => ({ name: doc?.name ?? '', slug: doc?.slug ?? '', description: doc?.description ?? '' });

/** Shows the editor of a condition or side effect `id` (or a new one). */
export async function namedScreen(main, kind, id) {
  const form = h('form', { class: 'editor', novalidate: true });
  const editor = new Editor({
    kind, selection: selection(kind), labels: LABELS, toState, display: (s) => s,
    createInput: (s) => ({ name: s.name, slug: s.slug.trim() || null, description: s.description }),
    updateInput: (s) => ({ name: s.name, slug: s.slug.trim() || undefined, description: s.description }),
  }, form);
  const doc = await editor.load(id);
  if (id && !doc) {
    editor.showMissing(main);
    return;
  }

  function build(state = editor.base) {
    const name = h('input', { name: 'name', value: state.name, required: true, maxlength: 200 });
    const slug = h('input', { name: 'slug', value: state.slug, class: 'mono', spellcheck: 'false' });
    const description = h('textarea', { name: 'description', rows: 8 }, state.description);
    editor.read = () => ({ name: name.value, slug: slug.value, description: description.value });
    const current = editor.doc;
    const topics = current?.topics ?? [];
    replace(form,
      pageHeader(current ? current.name : `New ${kind.one}`),
      editor.meta(),
      editor.scheduled(),
      h('div', { class: 'grid-2' },
        field('Name', name, { name: 'name' }),
        field('Slug', slug, { name: 'slug', hint: 'Left empty, it is made from the name.' })),
      field('Description (Markdown)', description, { name: 'description' }),
      current ? h('section', { 'aria-labelledby': 'linked-title' },
        h('h2', { id: 'linked-title' }, 'Topics that link to it'),
        topics.length === 0 ? h('p', { class: 'empty' }, 'None yet.') : h('ul', {}, topics.map((t) => h('li', {},
          h('a', { href: `#/topics/${t.node.id}` }, t.node.title), ` (${t.node.status.toLowerCase()})`,
          t.frequency ? ` · ${words(t.frequency)}, ${words(t.severity)}, ${words(t.duration)}` : '',
          t.note ? ` · ${t.note}` : '')))) : null,
      editor.toolbar());
  }
  editor.mount(main, build);
  return editor;
}

