// What every document editor shares: dirty tracking, save with conflict handling, the state
// actions (publish, unpublish, archive, delete) and the messages around them.

import { h, replace, badge, when } from './dom.js';
import { gql } from './api.js';
import { say, alertError, clearAlert, clearFieldErrors, reportError, dialog, confirmAction, guardUnsaved } from './ui.js';
import { fieldDiff } from './diff.js';
import { go } from './nav.js';

/**
 * A document editor. `spec`:
 * - kind: from kinds.js
 * - selection: the GraphQL selection of a document
 * - toState(doc): the form's state for a document (plain data)
 * - display(state): {key: display string} for the diff, with `labels` [[key, label]]
 * - createInput(state), updateInput(state): mutation inputs
 */
export class Editor {
  constructor(spec, form) {
    Object.assign(this, spec);
    this.form = form;
    this.doc = null;
    this.base = null;
    this.read = () => this.base;
    guardUnsaved(() => this.dirty());
  }

  /** Shows the form in `main`; `build` (re)draws it from `this.base` after loads and saves. */
  mount(main, build) {
    this.onSaved = build;
    this.onReload = build;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    build();
    main.replaceChildren(this.form);
  }

  /** Whether the form differs from what was loaded or last saved. */
  dirty() {
    return JSON.stringify(this.read()) !== JSON.stringify(this.base);
  }

  /** Loads the document (or starts a new one); returns it. */
  async load(id) {
    if (!id) {
      this.doc = null;
      this.base = this.toState(null);
      return null;
    }
    this.doc = await this.fetch(id);
    this.base = this.doc ? this.toState(this.doc) : null;
    return this.doc;
  }

  /** The document as the server has it now (drafts included), or null. */
  async fetch(id) {
    const { kind } = this;
    const data = await gql(`query($id: ID!) { ${kind.single}(id: $id, preview: true) { ${this.selection} } }`, { id });
    return data[kind.single];
  }

  /** Shows that the document does not exist (any more). */
  showMissing(main) {
    const { kind } = this;
    replace(main, h('h1', {}, `No such ${kind.one}`), h('p', {}, 'It may have been deleted; its history is kept.'),
      h('a', { href: `#/${kind.route}` }, `Back to ${kind.label.toLowerCase()}`));
  }

  /** Adopts a document the server answered as the new base. */
  adopt(doc) {
    this.doc = doc;
    this.base = this.toState(doc);
  }

  /** Reports an API error beside its field, or in the banner. */
  report(error) {
    reportError(this.form, error);
  }

  /**
   * Saves the form. A new document is created; an existing one is updated at the loaded
   * version. On CONFLICT the form keeps what the editor typed and a dialog shows what
   * changed on the server, with the choice to load theirs or overwrite knowingly.
   * Resolves true when saved.
   */
  async save({ overwriteVersion } = {}) {
    clearFieldErrors(this.form);
    clearAlert();
    const { kind } = this;
    const state = this.read();
    try {
      if (!this.doc) {
        const data = await gql(`mutation($input: Create${kind.mutation}Input!) { create${kind.mutation}(input: $input) { ${kind.payload} { ${this.selection} } } }`,
          { input: this.createInput(state) });
        this.adopt(data[`create${kind.mutation}`][kind.payload]);
        guardUnsaved(null);
        say(`Created the draft ${kind.one}.`);
        await go(`#/${kind.route}/${this.doc.id}`);
        return true;
      }
      const input = { id: this.doc.id, expectedVersion: overwriteVersion ?? this.doc.version, ...this.updateInput(state) };
      const data = await gql(`mutation($input: Update${kind.mutation}Input!) { update${kind.mutation}(input: $input) { ${kind.payload} { ${this.selection} } } }`, { input });
      this.adopt(data[`update${kind.mutation}`][kind.payload]);
      say(`Saved version ${this.doc.version}.`);
      this.onSaved?.();
      return true;
    } catch (error) {
      if (error.code === 'CONFLICT' && error.extensions.reason === 'STALE_VERSION') return this.conflict(state);
      this.report(error);
      return false;
    }
  }

  /** Someone saved in between: show the difference, keep the editor's work. */
  async conflict(mine) {
    const { kind } = this;
    const theirs = await this.fetch(this.doc.id);
    if (!theirs) {
      alertError(`This ${kind.one} was deleted meanwhile. Your text is still in the form: copy what you need.`);
      return false;
    }
    const choice = await dialog('Someone else saved this meanwhile', [
      h('p', {}, `The ${kind.one} is now at version ${theirs.version} (you started from version ${this.doc.version}). Your changes are still here and nothing was saved.`),
      h('p', {}, 'Differences between the server\'s version (−) and yours (+):'),
      fieldDiff(this.labels, this.display(this.toState(theirs)), this.display(mine), { beforeName: 'the server', afterName: 'yours' }),
    ], [
      { label: 'Keep editing', value: 'keep' },
      { label: 'Load their version (discard mine)', value: 'theirs' },
      { label: 'Overwrite with mine', value: 'mine', kind: 'danger' },
    ]);
    if (choice === 'mine') return this.save({ overwriteVersion: theirs.version });
    if (choice === 'theirs') {
      this.adopt(theirs);
      this.onReload?.();
      say(`Loaded version ${theirs.version}.`);
      return false;
    }
    say('Nothing was saved. Your changes are still in the form.');
    return false;
  }

  /** Runs a state change (publish, unpublish, archive) after saving pending changes. */
  async transition(action, extra = {}) {
    const { kind } = this;
    if (this.dirty() && !(await this.save())) return;
    const input = { id: this.doc.id, expectedVersion: this.doc.version, ...extra };
    const inputType = action === 'publish' && kind.type === 'TOPIC' ? 'PublishTopicInput' : 'DocumentVersionInput';
    const name = `${action}${kind.mutation}`;
    try {
      const data = await gql(`mutation($input: ${inputType}!) { ${name}(input: $input) { ${kind.payload} { ${this.selection} } } }`, { input });
      this.adopt(data[name][kind.payload]);
      say(`The ${kind.one} is now ${this.doc.status.toLowerCase()}.`);
      this.onReload?.();
    } catch (error) {
      if (error.code === 'CONFLICT' && error.extensions.reason === 'UNPUBLISHED_LINKS') {
        const docs = error.extensions.documents || [];
        const ok = await confirmAction('Publish the linked drafts too?',
          `This topic links to unpublished documents: ${docs.map((d) => d.slug).join(', ')}. The public would see broken links, so they must be published with it.`,
          'Publish all together', 'primary');
        if (ok) await this.transition('publish', { includeLinked: true });
        return;
      }
      if (error.code === 'CONFLICT' && error.extensions.reason === 'LINKED_FROM_PUBLISHED') {
        alertError(`${error.message}`);
        return;
      }
      this.report(error);
    }
  }

  /** Deletes the document after confirmation. */
  async remove() {
    const { kind } = this;
    const label = this.doc[kind.labelField];
    if (!(await confirmAction(`Delete this ${kind.one}?`, `“${label}” will be deleted. Its history is kept, but the ${kind.one} is gone from every list.`, 'Delete'))) return;
    try {
      await gql(`mutation($input: DocumentVersionInput!) { delete${kind.mutation}(input: $input) { deletedId } }`, { input: { id: this.doc.id, expectedVersion: this.doc.version } });
      guardUnsaved(null);
      say(`Deleted “${label}”.`);
      await go(`#/${kind.route}`);
    } catch (error) {
      this.report(error);
    }
  }

  /** The toolbar: save, state changes, delete, history. */
  toolbar() {
    const doc = this.doc;
    const { kind } = this;
    const button = (label, onclick, cls = '') => h('button', { type: 'button', class: cls, onclick }, label);
    return h('div', { class: 'toolbar' },
      h('button', { type: 'submit', class: 'primary' }, doc ? 'Save' : 'Create draft'),
      doc && doc.status !== 'PUBLISHED' ? button('Publish', () => this.transition('publish')) : null,
      doc && doc.status === 'PUBLISHED' ? button('Unpublish', () => this.transition('unpublish')) : null,
      doc && doc.status !== 'ARCHIVED' ? button('Archive', () => this.transition('archive')) : null,
      doc ? h('a', { class: 'button', href: `#/${kind.route}/${doc.id}/history` }, 'History') : null,
      doc ? button('Delete', () => this.remove(), 'danger') : null);
  }

  /** The document's state line. */
  meta() {
    const doc = this.doc;
    if (!doc) return h('p', { class: 'meta' }, badge('DRAFT'), ' new, not saved yet');
    return h('p', { class: 'meta' }, badge(doc.status), ` version ${doc.version} · last edited ${when(doc.updatedAt)}`,
      doc.publishedAt ? ` · published ${when(doc.publishedAt)}` : '');
  }
}
