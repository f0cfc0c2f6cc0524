// The topic editor: text, ordered lists, linked conditions and side effects with their
// attributes, review, a live Markdown preview, and the document actions.

import { h, replace, field, when } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { KINDS, FREQUENCIES, SEVERITIES, DURATIONS, words } from '../kinds.js';
import { linkTargets } from '../catalog.js';
import { Editor } from '../editor.js';
import { lineList, orderedList, rowSelect } from '../lists.js';
import { pageHeader, say, formDialog } from '../ui.js';
import { pickImage, picture } from './media.js';

const SELECTION = `id slug title summary body features benefits references { title url }
  image { id url kind mimeType width height dominantColor alt variants { width url } }
  status version publishedAt reviewedAt reviewedBy { id displayName } reviewDueAt reviewNote approved updatedAt
  conditions { note node { id name status } }
  sideEffects { frequency severity duration note node { id name status } }`;

const LABELS = [
  ['title', 'Title'], ['slug', 'Slug'], ['summary', 'Summary'], ['body', 'Body'],
  ['features', 'Features'], ['benefits', 'Benefits'], ['references', 'References'],
  ['conditions', 'Conditions'], ['sideEffects', 'Side effects'], ['image', 'Hero image'],
];

/**
 * The images the editor has shown, by id: the form's state holds only an image's id (its
 * addresses are signed for an hour, so they would make equal states differ).
 */
const images = new Map();

function toState(doc) {
  return {
    title: doc?.title ?? '',
    slug: doc?.slug ?? '',
    summary: doc?.summary ?? '',
    body: doc?.body ?? '',
    features: doc?.features ?? [],
    benefits: doc?.benefits ?? [],
    references: (doc?.references ?? []).map((r) => ({ title: r.title, url: r.url ?? '' })),
    conditions: (doc?.conditions ?? []).map((l) => ({ id: l.node.id, name: l.node.name, note: l.note ?? '' })),
    sideEffects: (doc?.sideEffects ?? []).map((l) => ({
      id: l.node.id, name: l.node.name, frequency: l.frequency, severity: l.severity, duration: l.duration, note: l.note ?? '',
    })),
    image: doc?.image ? remember(doc.image) : null,
    markReviewed: false,
  };
}

/** Keeps `item` for display; its id. */
function remember(item) {
  images.set(item.id, item);
  return item.id;
}

function display(state) {
  return {
    title: state.title,
    slug: state.slug,
    summary: state.summary,
    body: state.body,
    features: state.features.join('\n'),
    benefits: state.benefits.join('\n'),
    references: state.references.map((r) => (r.url ? `${r.title} <${r.url}>` : r.title)).join('\n'),
    conditions: state.conditions.map((c) => (c.note ? `${c.name} (${c.note})` : c.name)).join('\n'),
    sideEffects: state.sideEffects.map((s) => `${s.name}: ${words(s.frequency)}, ${words(s.severity)}, ${words(s.duration)}${s.note ? ` (${s.note})` : ''}`).join('\n'),
    image: state.image ? (images.get(state.image)?.alt ?? `image ${state.image}`) : '(none)',
  };
}

function inputOf(state) {
  return {
    title: state.title,
    slug: state.slug.trim() || null,
    summary: state.summary,
    body: state.body,
    features: state.features,
    benefits: state.benefits,
    references: state.references.map((r) => ({ title: r.title, url: r.url.trim() || null })),
    conditions: state.conditions.map((c) => ({ conditionId: c.id, note: c.note.trim() || null })),
    sideEffects: state.sideEffects.map((s) => ({
      sideEffectId: s.id, frequency: s.frequency, severity: s.severity, duration: s.duration, note: s.note.trim() || null,
    })),
    imageId: state.image,
  };
}

/**
 * Asks for an image of the library and writes it into the Markdown `textarea` where the
 * cursor is (replacing a selection), on a line of its own. Without alt text of its own,
 * the image shows with the item's, and follows later changes of it.
 */
async function insertMedia(textarea) {
  const { selectionStart: start, selectionEnd: end } = textarea;
  const item = await pickImage();
  textarea.focus();
  if (!item) return;
  const before = textarea.value.slice(0, start);
  const after = textarea.value.slice(end);
  const lead = before === '' || before.endsWith('\n\n') ? '' : before.endsWith('\n') ? '\n' : '\n\n';
  const trail = after === '' || after.startsWith('\n') ? '\n' : '\n\n';
  textarea.setRangeText(`${lead}![](media:${item.id})${trail}`, start, end, 'end');
  textarea.dispatchEvent(new Event('input', { bubbles: true }));
}

/** The hero image: a preview, Choose… (the library, or an upload) and Remove. */
function heroImage(initial, changed) {
  let current = initial;
  const shown = h('div', { class: 'hero-preview' });
  const remove = h('button', { type: 'button', onclick: () => { current = null; render(); changed(); } }, 'Remove');
  const choose = h('button', { type: 'button', onclick: async () => {
    const item = await pickImage();
    if (!item) return;
    current = remember(item);
    render();
    changed();
  } }, 'Choose image…');
  function render() {
    const item = current && images.get(current);
    shown.replaceChildren(item ? picture(item, 240) : h('p', { class: 'muted' }, current ? `Image ${current}` : 'No hero image.'));
    if (item) shown.append(h('p', {}, item.alt));
    remove.hidden = !current;
    choose.textContent = current ? 'Change image…' : 'Choose image…';
  }
  render();
  const el = h('fieldset', { class: 'hero', dataset: { field: 'imageId' } }, h('legend', {}, 'Hero image'), shown, h('div', { class: 'actions' }, choose, remove));
  return { el, read: () => current };
}

/**
 * A picker: a searchable field over the `options` (the browser's own combobox, a datalist,
 * so typing filters and the keyboard works as everywhere), and an Add button. A name that
 * matches nothing offers to create that document, in a side panel, and links it.
 */
function picker(label, kind, options, linked, onAdd) {
  const listId = `link-${kind.route}-options`;
  const describe = (o) => (o.status === 'PUBLISHED' ? o.name : `${o.name} (${o.status.toLowerCase()})`);
  const list = h('datalist', { id: listId }, options.map((o) => h('option', { value: o.name, label: describe(o) })));
  const control = h('input', { type: 'text', list: listId, autocomplete: 'off', placeholder: `Type to search ${kind.label.toLowerCase()}…` });
  const add = h('button', { type: 'button' }, `Add ${label}`);
  const link = (chosen) => {
    if (linked().some((l) => l.id === chosen.id)) {
      say(`${chosen.name} is already linked.`, 'note');
      return;
    }
    onAdd(chosen);
    control.value = '';
  };
  add.addEventListener('click', async () => {
    const typed = control.value.trim();
    if (!typed) {
      control.focus();
      return;
    }
    const chosen = options.find((o) => o.name.toLowerCase() === typed.toLowerCase());
    if (chosen) {
      link(chosen);
      return;
    }
    const created = await createInPanel(label, kind, typed);
    if (!created) return;
    options.push(created);
    list.append(h('option', { value: created.name, label: describe(created) }));
    link(created);
    say(`Created the draft ${label} “${created.name}” and linked it. Publish it with the topic.`);
  });
  // Enter in the field adds, as the button does (not the whole form's save).
  control.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      add.click();
    }
  });
  return h('div', { class: 'picker' }, field(`Link a ${label}`, control), list, add);
}

/** A side panel to create a condition or side effect named `name`; the new one, or null. */
async function createInPanel(label, kind, name) {
  const nameInput = h('input', { name: 'name', value: name, maxlength: 200 });
  const description = h('textarea', { name: 'description', rows: 5, class: 'mono' });
  let created = null;
  const done = await formDialog({
    title: `New ${label}`,
    body: [
      h('p', {}, `There is no ${label} called “${name}” yet. Create it as a draft and link it:`),
      field('Name', nameInput),
      field('Description (Markdown)', description),
    ],
    submitLabel: `Create and link`,
    cancelLabel: 'Cancel',
    focus: nameInput,
    panel: true,
    action: async () => {
      const data = await gql(`mutation($input: Create${kind.mutation}Input!) { create${kind.mutation}(input: $input) { ${kind.payload} { id name status } } }`,
        { input: { name: nameInput.value, description: description.value } });
      created = data[`create${kind.mutation}`][kind.payload];
    },
  });
  return done ? created : null;
}

/** Whether the signed-in user approves content (reviewers and admins). */
function approves() {
  return ['REVIEWER', 'ADMIN'].includes(currentUser()?.role);
}

/** Asks for a review note (required unless `optional`); the note, '' or null when cancelled. */
async function askNote(title, label, submitLabel, optional) {
  const note = h('textarea', { name: 'note', rows: 3 });
  let given = null;
  const done = await formDialog({
    title,
    body: [h('label', {}, label, note)],
    submitLabel,
    cancelLabel: 'Cancel',
    focus: note,
    action: async () => {
      if (!optional && !note.value.trim()) throw new Error('Say what must change.');
      given = note.value.trim();
    },
  });
  return done ? given : null;
}

/** The medical review: where the topic stands, and the steps the user may take. */
function reviewPanel(editor, doc, reviewed) {
  const lines = [];
  if (!doc) {
    lines.push(h('p', {}, 'Once created, the draft can be submitted for review.'));
  } else {
    const by = doc.reviewedBy ? ` by ${doc.reviewedBy.displayName}` : '';
    if (doc.approved) {
      lines.push(h('p', { class: 'reviewed' }, `Approved ${when(doc.reviewedAt)}${by}. Next review due ${when(doc.reviewDueAt)}.`));
    } else if (doc.reviewedAt) {
      lines.push(h('p', { class: 'reviewed' }, `Changed since its last approval (${when(doc.reviewedAt)}${by}): it needs a new review before it is published${doc.status === 'PUBLISHED' ? ' again' : ''}.`));
    } else {
      lines.push(h('p', { class: 'reviewed' }, 'Not reviewed yet.'));
    }
    if (doc.reviewNote) lines.push(h('p', { class: 'review-note' }, h('strong', {}, 'Reviewer’s note: '), doc.reviewNote));
  }
  const steps = [];
  const button = (label, onclick) => h('button', { type: 'button', onclick }, label);
  if (doc && doc.status === 'DRAFT') {
    steps.push(button('Submit for review', () => editor.step('submitTopicForReview', 'DocumentVersionInput', {}, 'Submitted for review.')));
  }
  if (doc && approves() && doc.status !== 'ARCHIVED' && (!doc.approved || doc.status === 'IN_REVIEW')) {
    steps.push(button('Approve', async () => {
      const note = await askNote('Approve this topic', 'Note for the editors (optional)', 'Approve', true);
      if (note !== null) await editor.step('approveTopic', 'ApproveTopicInput', note ? { note } : {}, 'Approved.');
    }));
  }
  if (doc && approves() && ['IN_REVIEW', 'APPROVED'].includes(doc.status)) {
    steps.push(button('Request changes', async () => {
      const note = await askNote('Request changes', 'What must change', 'Send back to draft', false);
      if (note) await editor.step('requestTopicChanges', 'RequestTopicChangesInput', { note }, 'Sent back to draft with your note.');
    }));
  }
  return h('fieldset', { class: 'review', dataset: { field: 'markReviewed' } },
    h('legend', {}, 'Medical review'),
    ...lines,
    steps.length ? h('div', { class: 'actions review-steps' }, steps) : null,
    doc && approves() ? h('label', { class: 'check' }, reviewed, ' Approve the content as I save it') : null);
}

/** Shows the editor for topic `id` (or a new topic). */
export async function topicScreen(main, id) {
  const kind = KINDS.topics;
  const form = h('form', { class: 'editor', novalidate: true });
  const editor = new Editor({
    kind, selection: SELECTION, labels: LABELS, toState, display,
    identities: { references: (r) => r.title, conditions: (c) => c.id, sideEffects: (s) => s.id },
    createInput: inputOf,
    updateInput: (state) => ({ ...inputOf(state), slug: state.slug.trim() || undefined, markReviewed: state.markReviewed || null }),
  }, form);
  const [doc, pool] = await Promise.all([editor.load(id), linkTargets()]);
  if (id && !doc) {
    editor.showMissing(main);
    return;
  }

  function build(state = editor.base) {
    const title = h('input', { name: 'title', value: state.title, required: true, maxlength: 200 });
    const slug = h('input', { name: 'slug', value: state.slug, class: 'mono', spellcheck: 'false' });
    const summary = h('textarea', { name: 'summary', rows: 3 }, state.summary);
    const body = h('textarea', { name: 'body', rows: 16, class: 'mono' }, state.body);
    const preview = h('div', { class: 'preview prose', role: 'region', 'aria-live': 'off', 'aria-label': 'Preview of the body' });
    const features = lineList('features', 'Features', state.features, 'Feature');
    const benefits = lineList('benefits', 'Benefits', state.benefits, 'Benefit');
    const references = orderedList({
      name: 'references', legend: 'References', values: state.references, itemLabel: 'Reference',
      makeRow(value, index) {
        const t = h('input', { value: value.title, 'aria-label': `Reference ${index + 1} title`, placeholder: 'Title', dataset: { part: 'title' } });
        const u = h('input', { value: value.url, type: 'url', 'aria-label': `Reference ${index + 1} address`, placeholder: 'https://…', dataset: { part: 'url' } });
        return { nodes: [t, u], read: () => ({ title: t.value, url: u.value }), focus: () => t.focus() };
      },
      addControls: (add) => h('button', { type: 'button', onclick: () => add({ title: '', url: '' }) }, 'Add reference'),
    });
    const conditions = orderedList({
      name: 'conditions', legend: 'Conditions it treats', values: state.conditions, itemLabel: 'Condition',
      makeRow(value, index) {
        const note = h('input', { value: value.note, 'aria-label': `Note on ${value.name}`, placeholder: 'Note (optional)', dataset: { part: 'note' } });
        return {
          nodes: [h('span', { class: 'link-name' }, value.name), note],
          read: () => ({ ...value, note: note.value }),
          focus: () => note.focus(),
        };
      },
      addControls: (add) => picker('condition', KINDS.conditions, pool.conditions, () => conditions.read(), (c) => add({ id: c.id, name: c.name, note: '' })),
    });
    const sideEffects = orderedList({
      name: 'sideEffects', legend: 'Side effects', values: state.sideEffects, itemLabel: 'Side effect',
      makeRow(value) {
        const f = rowSelect('How common', FREQUENCIES.map((v) => [v, words(v)]), value.frequency, `How common: ${value.name}`);
        const s = rowSelect('How severe', SEVERITIES.map((v) => [v, words(v)]), value.severity, `How severe: ${value.name}`);
        const d = rowSelect('How lasting', DURATIONS.map((v) => [v, words(v)]), value.duration, `How lasting: ${value.name}`);
        const note = h('input', { value: value.note, 'aria-label': `Note on ${value.name}`, placeholder: 'Note (optional)', dataset: { part: 'note' } });
        return {
          nodes: [h('span', { class: 'link-name' }, value.name), f.node, s.node, d.node, note],
          read: () => ({ ...value, frequency: f.control.value, severity: s.control.value, duration: d.control.value, note: note.value }),
          focus: () => f.control.focus(),
        };
      },
      addControls: (add) => picker('side effect', KINDS['side-effects'], pool.sideEffects, () => sideEffects.read(),
        (x) => add({ id: x.id, name: x.name, frequency: 'COMMON', severity: 'MILD', duration: 'TEMPORARY', note: '' })),
    });
    const reviewed = h('input', { type: 'checkbox', name: 'markReviewed' });
    const hero = heroImage(state.image, () => form.dispatchEvent(new Event('input', { bubbles: true })));
    editor.read = () => ({
      title: title.value,
      slug: slug.value,
      summary: summary.value,
      body: body.value,
      features: features.read(),
      benefits: benefits.read(),
      references: references.read(),
      conditions: conditions.read(),
      sideEffects: sideEffects.read(),
      image: hero.read(),
      markReviewed: reviewed.checked,
    });

    // Live preview: rendered by the server exactly as the public will get it.
    let timer = null;
    let shown = null;
    const renderPreview = async () => {
      if (shown === body.value) return;
      shown = body.value;
      try {
        const data = await gql('query($m: String!) { markdownPreview(markdown: $m) }', { m: body.value });
        // Sanitized HTML from the server (the same renderer as bodyHtml), never raw input.
        preview.innerHTML = data.markdownPreview;
      } catch (error) {
        preview.textContent = error.message;
      }
    };
    body.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(renderPreview, 250); });
    renderPreview();
    const insertImage = h('button', { type: 'button', onclick: () => insertMedia(body) }, 'Insert image…');

    const doc = editor.doc;
    replace(form,
      pageHeader(doc ? doc.title || 'Untitled topic' : 'New topic'),
      editor.meta(),
      editor.scheduled(),
      h('div', { class: 'grid-2' },
        field('Title', title, { name: 'title' }),
        field('Slug', slug, { name: 'slug', hint: 'The address name: lowercase letters, digits, hyphens. Left empty, it is made from the title.' })),
      field('Summary', summary, { name: 'summary', hint: 'One plain paragraph for listings and search results.' }),
      hero.el,
      h('div', { class: 'grid-2 body-editor' },
        h('div', {},
          field('Body (Markdown)', body, { name: 'body', hint: 'How it works. Markdown: ## headings, *emphasis*, lists, [links](https://…). An image of the library is ![](media:12): it shows with its alt text, sized for every screen.' }),
          h('div', { class: 'actions' }, insertImage)),
        h('div', { class: 'field' }, h('p', { class: 'label' }, 'Preview'), preview)),
      h('div', { class: 'grid-2' }, features.el, benefits.el),
      references.el,
      conditions.el,
      sideEffects.el,
      reviewPanel(editor, doc, reviewed),
      editor.toolbar());
    if (doc) form.querySelector('.meta').prepend(h('span', { class: 'visually-hidden' }, 'Status: '));
  }

  editor.mount(main, build);
  return editor;
}

