// What every document editor shares: dirty tracking, save with conflict handling, the state
// actions (publish, unpublish, archive, delete) and the messages around them.

import { h, replace, badge, when } from './dom.js';
import { gql, currentUser } from './api.js';
import { draftKey, keep, kept, forget } from './drafts.js';
import { say, alertError, clearAlert, clearFieldErrors, reportError, dialog, confirmAction, formDialog, guardUnsaved } from './ui.js';
import { merge, changedFields } from './merge.js';
import { go } from './nav.js';

/**
 * A document editor. `spec`:
 * - kind: from kinds.js
 * - selection: the GraphQL selection of a document
 * - toState(doc): the form's state for a document (plain data)
 * - display(state): {key: display string} for the diff, with `labels` [[key, label]]
 * - createInput(state), updateInput(state): mutation inputs
 * - identities: per list field, how its items are known when merging (default: by value)
 */
export class Editor {
  constructor(spec, form) {
    Object.assign(this, spec);
    this.form = form;
    this.doc = null;
    this.base = null;
    this.read = () => this.base;
    this.busy = false;
    // A version restored from the browser's copy was edited on: saving it is checked
    // against that version, so someone's save since then shows as a conflict.
    this.restoredFrom = null;
    // What a restored version started from: the merge's base when it meets a newer save.
    this.mergeBase = null;
    this.key = null;
    guardUnsaved(() => this.dirty(), () => this.forgetDraft());
  }

  /**
   * Shows the form in `main`; `build(state)` (re)draws it from `state` (by default
   * `this.base`) after loads and saves. Offers back unsaved work this browser kept.
   */
  mount(main, build) {
    this.onSaved = () => build();
    this.onReload = (state) => build(state);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    this.form.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
        event.preventDefault();
        this.save();
      } else if (event.key === 'Enter' && event.target.matches('input:not([type="checkbox"]):not([type="submit"])')) {
        // Enter in a one-line field is not "save the whole document".
        event.preventDefault();
      }
    });
    let timer = null;
    const later = () => { clearTimeout(timer); timer = setTimeout(() => this.keepDraft(), 300); };
    this.form.addEventListener('input', later);
    this.form.addEventListener('change', later);
    window.addEventListener('pagehide', () => this.keepDraft());
    build();
    this.notice = this.restoreOffer(build);
    main.replaceChildren(...[this.notice].filter(Boolean), this.form);
  }

  /** Keeps the form's content in the browser while it differs from the document. */
  keepDraft() {
    if (!this.key || !this.form.isConnected) return;
    if (this.dirty()) {
      keep(this.key, {
        at: new Date().toISOString(),
        version: this.restoredFrom ?? this.doc?.version ?? null,
        base: this.mergeBase ?? this.base,
        state: this.read(),
      });
    } else {
      forget(this.key);
    }
  }

  /** Forgets the browser's copy (saved, or discarded by the editor), and the offer of it. */
  forgetDraft() {
    if (this.key) forget(this.key);
    this.notice?.remove();
  }

  /** A notice offering back the unsaved work kept for this document, if any differs. */
  restoreOffer(build) {
    const entry = this.key && kept(this.key);
    if (!entry || JSON.stringify(entry.state) === JSON.stringify(this.base)) return null;
    const { kind } = this;
    const moved = this.doc && entry.version !== null && entry.version !== this.doc.version;
    const notice = h('div', { class: 'notice', role: 'region', 'aria-label': 'Unsaved changes' },
      h('p', {}, `You have unsaved changes to this ${kind.one} from ${when(entry.at)}, kept in this browser.`,
        moved ? ` They were made on version ${entry.version}; it is now at version ${this.doc.version}, so saving them will show what changed meanwhile.` : ''),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => {
          this.restoredFrom = moved ? entry.version : null;
          this.mergeBase = moved ? entry.base ?? null : null;
          build(entry.state);
          notice.remove();
          say('Your unsaved changes are back in the form. They are not saved yet.', 'note');
        } }, 'Restore my changes'),
        h('button', { type: 'button', onclick: () => { this.forgetDraft(); notice.remove(); } }, 'Discard them')));
    return notice;
  }

  /**
   * Runs `action` with the toolbar disabled (a double click does it once), the submit
   * button saying `label` meanwhile; resolves with its result, or false when busy.
   */
  async busyWhile(label, action) {
    if (this.busy) return false;
    this.busy = true;
    const buttons = [...this.form.querySelectorAll('.toolbar button')];
    const submit = this.form.querySelector('.toolbar button[type="submit"]');
    const text = submit?.textContent;
    for (const button of buttons) button.disabled = true;
    if (submit && label) submit.textContent = label;
    this.form.setAttribute('aria-busy', 'true');
    try {
      return await action();
    } finally {
      this.busy = false;
      for (const button of buttons) button.disabled = false;
      if (submit && label) submit.textContent = text;
      this.form.removeAttribute('aria-busy');
    }
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
      this.key = draftKey(currentUser()?.id, this.kind.route, null);
      return null;
    }
    this.doc = await this.fetch(id);
    this.base = this.doc ? this.toState(this.doc) : null;
    this.key = this.doc ? draftKey(currentUser()?.id, this.kind.route, this.doc.id) : null;
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
  save(options) {
    return this.busyWhile(this.doc ? 'Saving…' : 'Creating…', () => this.saveNow(options));
  }

  async saveNow() {
    clearFieldErrors(this.form);
    clearAlert();
    const { kind } = this;
    const state = this.read();
    try {
      if (!this.doc) {
        const data = await gql(`mutation($input: Create${kind.mutation}Input!) { create${kind.mutation}(input: $input) { ${kind.payload} { ${this.selection} } } }`,
          { input: this.createInput(state) });
        this.adopt(data[`create${kind.mutation}`][kind.payload]);
        this.forgetDraft();
        guardUnsaved(null);
        say(`Created the draft ${kind.one}.`);
        await go(`#/${kind.route}/${this.doc.id}`);
        return true;
      }
      const input = { id: this.doc.id, expectedVersion: this.restoredFrom ?? this.doc.version, ...this.updateInput(state) };
      const data = await gql(`mutation($input: Update${kind.mutation}Input!) { update${kind.mutation}(input: $input) { ${kind.payload} { ${this.selection} } } }`, { input });
      this.adopt(data[`update${kind.mutation}`][kind.payload]);
      this.restoredFrom = null;
      this.mergeBase = null;
      this.forgetDraft();
      say(`${this.mergedNote ?? ''}Saved version ${this.doc.version}.`);
      this.mergedNote = null;
      this.onSaved?.();
      return true;
    } catch (error) {
      if (error.code === 'CONFLICT' && error.extensions.reason === 'STALE_VERSION') return this.conflict(state);
      this.report(error);
      return false;
    }
  }

  /**
   * Someone saved in between: a three-way merge of what the editor started from, their
   * version and the form. What only one side changed merges by itself and the merge is
   * saved; what both changed differently is shown side by side for the editor to choose.
   * Nothing they did not see is reverted, and the form keeps the work meanwhile.
   */
  async conflict(mine) {
    const { kind } = this;
    const theirs = await this.fetch(this.doc.id);
    if (!theirs) {
      alertError(`This ${kind.one} was deleted meanwhile. Your text is still in the form: copy what you need.`);
      return false;
    }
    const base = this.mergeBase ?? this.base;
    const started = this.restoredFrom ?? this.doc.version;
    const theirState = this.toState(theirs);
    const { merged, conflicts } = merge(base, theirState, mine, this.identities);
    const labelOf = (key) => this.labels.find(([k]) => k === key)?.[1] ?? key;
    const theirChanges = changedFields(base, theirState).map(labelOf).join(', ');
    const takeTheirs = () => {
      this.adopt(theirs);
      this.restoredFrom = null;
      this.mergeBase = null;
    };
    if (conflicts.length === 0) {
      takeTheirs();
      this.onReload?.(merged);
      this.mergedNote = `Merged your changes with version ${theirs.version}, saved meanwhile (${theirChanges || 'no visible change'}). `;
      return this.saveNow();
    }
    const [before, after, yours] = [this.display(base), this.display(theirState), this.display(mine)];
    const choices = conflicts.map((key) => {
      const name = `choice-${key}`;
      const useTheirs = h('input', { type: 'radio', name, value: 'theirs' });
      const useMine = h('input', { type: 'radio', name, value: 'mine', checked: true });
      const column = (title, text) => h('div', { class: 'merge-side' }, h('p', { class: 'label' }, title), h('pre', {}, text ?? ''));
      const node = h('fieldset', { class: 'merge-field' },
        h('legend', {}, labelOf(key)),
        h('div', { class: 'merge-sides' },
          column(`Before (version ${started})`, before[key]),
          column(`Theirs (version ${theirs.version})`, after[key]),
          column('Yours', yours[key])),
        h('label', { class: 'check' }, useTheirs, ' Use theirs'),
        h('label', { class: 'check' }, useMine, ' Use yours'));
      return { key, node, useTheirs };
    });
    const mergedAlone = changedFields(base, merged).filter((key) => !conflicts.includes(key)).map(labelOf);
    const choice = await dialog('Someone else saved this meanwhile', [
      h('p', {}, `The ${kind.one} is now at version ${theirs.version} (you started from version ${started}). Nothing was saved yet, and your changes are still in the form.`),
      mergedAlone.length ? h('p', {}, `Merged by themselves: ${mergedAlone.join(', ')}.`) : null,
      h('p', {}, conflicts.length === 1 ? 'You both changed this; choose which to keep:' : 'You both changed these; choose which to keep:'),
      choices.map((c) => c.node),
    ], [
      { label: 'Save with these choices', value: 'save', kind: 'primary' },
      { label: 'Keep editing', value: 'keep' },
      { label: 'Load their version (discard mine)', value: 'theirs' },
    ]);
    if (choice === 'theirs') {
      takeTheirs();
      this.forgetDraft();
      this.onReload?.();
      say(`Loaded version ${theirs.version}.`, 'note');
      return false;
    }
    if (choice === 'save' || choice === 'keep') {
      for (const c of choices) if (choice === 'save' && c.useTheirs.checked) merged[c.key] = theirState[c.key];
      takeTheirs();
      this.onReload?.(merged);
      if (choice === 'save') return this.saveNow();
      say('Their version is merged into the form; nothing was saved yet.', 'note');
      return false;
    }
    say('Nothing was saved. Your changes are still in the form.', 'note');
    return false;
  }

  /** Runs a state change (publish, unpublish, archive) after saving pending changes. */
  transition(action, extra = {}) {
    return this.busyWhile(null, () => this.transitionNow(action, extra));
  }

  async transitionNow(action, extra = {}) {
    const { kind } = this;
    if (this.dirty() && !(await this.saveNow())) return;
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
        if (ok) await this.transitionNow('publish', { includeLinked: true });
        return;
      }
      if (error.code === 'CONFLICT' && error.extensions.reason === 'LINKED_FROM_PUBLISHED') {
        alertError(`${error.message}`);
        return;
      }
      if (error.code === 'CONFLICT' && error.extensions.reason === 'NOT_APPROVED') {
        if (currentUser()?.role === 'ADMIN') {
          const reason = await this.askOverride();
          if (reason) await this.transitionNow('publish', { ...extra, overrideReview: reason });
          return;
        }
        alertError(`This ${kind.one} has not been approved since its content last changed. Submit it for review; a reviewer approves it, then it can be published.`);
        return;
      }
      if (error.code === 'CONFLICT' && error.extensions.reason === 'STALE_VERSION') {
        // Someone saved meanwhile: show their version here (a reload would sign out), and
        // let the editor decide again on what they now see.
        const theirs = await this.fetch(this.doc.id);
        if (theirs) {
          this.adopt(theirs);
          this.forgetDraft();
          this.onReload?.();
          alertError(`Someone saved this ${kind.one} meanwhile (now version ${theirs.version}, shown here). Nothing was changed: ${action} it again if you still want to.`);
          return;
        }
      }
      this.report(error);
    }
  }

  /** Asks an admin why unapproved content is published anyway; the reason, or null. */
  async askOverride() {
    const reason = h('textarea', { name: 'overrideReview', rows: 3 });
    let given = null;
    const done = await formDialog({
      title: 'Publish without review?',
      body: [h('p', {}, `No reviewer approved this ${this.kind.one} as it stands. As an admin you may publish it anyway; your reason is kept in its history.`),
        h('label', {}, 'Reason', reason)],
      submitLabel: 'Publish without review',
      cancelLabel: 'Cancel',
      focus: reason,
      action: async () => {
        if (!reason.value.trim()) throw new Error('Say why it cannot wait for a review.');
        given = reason.value.trim();
      },
    });
    return done ? given : null;
  }

  /**
   * Runs a review step (`submitTopicForReview`, `approveTopic`, `requestTopicChanges`) on
   * the current version after saving pending changes; `extra` joins the input.
   */
  step(mutation, inputType, extra, message) {
    return this.busyWhile(null, async () => {
      const { kind } = this;
      if (this.dirty() && !(await this.saveNow())) return;
      try {
        const data = await gql(`mutation($input: ${inputType}!) { ${mutation}(input: $input) { ${kind.payload} { ${this.selection} } } }`,
          { input: { id: this.doc.id, expectedVersion: this.doc.version, ...extra } });
        this.adopt(data[mutation][kind.payload]);
        say(message);
        this.onReload?.();
      } catch (error) {
        if (error.code === 'CONFLICT' && error.extensions.reason === 'STALE_VERSION') {
          const theirs = await this.fetch(this.doc.id);
          if (theirs) {
            this.adopt(theirs);
            this.onReload?.();
            alertError(`Someone saved this ${kind.one} meanwhile (now version ${theirs.version}, shown here). Nothing was changed: look again before you continue.`);
            return;
          }
        }
        this.report(error);
      }
    });
  }

  /** Plans a publish or unpublish at a time the editor chooses. */
  async schedule() {
    const { kind } = this;
    const action = h('select', { name: 'action' },
      h('option', { value: 'schedulePublish' }, 'Publish'),
      h('option', { value: 'scheduleUnpublish' }, 'Unpublish'));
    action.value = this.doc.status === 'PUBLISHED' ? 'scheduleUnpublish' : 'schedulePublish';
    const at = h('input', { type: 'datetime-local', name: 'at', required: true, step: 1 });
    const linked = h('input', { type: 'checkbox', name: 'includeLinked' });
    const done = await formDialog({
      title: `Schedule this ${kind.one}`,
      body: [
        h('label', {}, 'What', action),
        h('label', {}, 'When (your local time)', at),
        kind.type === 'TOPIC' ? h('label', { class: 'check' }, linked, ' Publish its unpublished conditions and side effects with it') : null,
        h('p', { class: 'muted' }, 'Whether it may be published is checked at that time: a topic must be approved by then.'),
      ].filter(Boolean),
      submitLabel: 'Schedule',
      cancelLabel: 'Cancel',
      focus: at,
      action: async () => {
        const time = new Date(at.value);
        if (!at.value || Number.isNaN(time.getTime())) throw new Error('Choose a date and time.');
        await gql(`mutation($input: ScheduleInput!) { ${action.value}(input: $input) { schedule { id } } }`,
          { input: { documentType: kind.type, id: this.doc.id, at: time.toISOString(), includeLinked: linked.checked } });
      },
    });
    if (done) {
      say(`Scheduled. It runs at ${when(new Date(at.value).toISOString())}.`);
      this.onReload?.();
    }
  }

  /** A line listing the document's pending schedules, each with Cancel; filled in when read. */
  scheduled() {
    const line = h('div', { class: 'scheduled', 'aria-live': 'polite' });
    if (!this.doc) return line;
    const { kind } = this;
    gql('query($filter: ScheduleFilter) { schedules(filter: $filter) { id action at state outcome finishedAt } }',
      { filter: { documentType: kind.type, documentId: this.doc.id, state: ['PENDING', 'FAILED'] } })
      .then((data) => {
        // A refusal stays in view until the document changes again.
        const since = Date.parse(this.doc.updatedAt);
        const failed = data.schedules.filter((s) => s.state === 'FAILED' && Date.parse(s.finishedAt) >= since);
        const pending = data.schedules.filter((s) => s.state === 'PENDING');
        replace(line, ...failed.map((s) => h('p', { class: 'notice-line failed', role: 'note' },
          `The scheduled ${s.action === 'PUBLISH' ? 'publication' : 'unpublication'} at ${when(s.at)} did not run: ${s.outcome}`)),
        ...pending.map((s) => h('p', { class: 'notice-line' },
          `Scheduled to ${s.action === 'PUBLISH' ? 'publish' : 'unpublish'} at ${when(s.at)}. `,
          h('button', { type: 'button', onclick: async () => {
            try {
              await gql('mutation($id: ID!) { cancelSchedule(input: { id: $id }) { schedule { state } } }', { id: s.id });
              say('The schedule is cancelled.');
              this.onReload?.();
            } catch (error) {
              this.report(error);
            }
          } }, 'Cancel schedule'))));
      })
      .catch(() => {});
    return line;
  }

  /** Deletes the document after confirmation. */
  remove() {
    return this.busyWhile(null, () => this.removeNow());
  }

  async removeNow() {
    const { kind } = this;
    const label = this.doc[kind.labelField];
    if (!(await confirmAction(`Delete this ${kind.one}?`, `“${label}” will be deleted. Its history is kept, but the ${kind.one} is gone from every list.`, 'Delete'))) return;
    try {
      await gql(`mutation($input: DocumentVersionInput!) { delete${kind.mutation}(input: $input) { deletedId } }`, { input: { id: this.doc.id, expectedVersion: this.doc.version } });
      this.forgetDraft();
      guardUnsaved(null);
      say(`Deleted “${label}”.`);
      await go(`#/${kind.route}`);
    } catch (error) {
      this.report(error);
    }
  }

  /**
   * Opens the frontend's preview of the draft (saved first when the form has changes), with
   * a short-lived token that reads this document only; without a configured preview
   * address, shows the token for a developer to use.
   */
  async openPreview() {
    const { kind } = this;
    // Opened now, while the click still counts as the user's: a window opened after the
    // request would be blocked as a pop-up.
    const opened = window.open('about:blank', '_blank');
    try {
      if (this.dirty() && !(await this.save())) {
        opened?.close();
        return;
      }
      const data = await gql('mutation($input: CreatePreviewLinkInput!) { createPreviewLink(input: $input) { token url expiresAt } }',
        { input: { documentType: kind.type, id: this.doc.id } });
      const link = data.createPreviewLink;
      if (link.url && opened) {
        opened.opener = null;
        opened.location.href = link.url;
        say(`Opened the preview; its link works until ${when(link.expiresAt)}.`);
        return;
      }
      opened?.close();
      const token = h('input', { value: link.token, readonly: true, class: 'mono', 'aria-label': 'Preview token' });
      await dialog('Preview token', [
        h('p', {}, `No preview address is configured on the server (DERMIS_PREVIEW_URL). A frontend can read this draft until ${when(link.expiresAt)} with this token as "Authorization: Bearer …" and ${kind.single}(id: "${this.doc.id}", preview: true):`),
        token,
      ], [{ label: 'Close', value: 'close' }]);
    } catch (error) {
      opened?.close();
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
      doc ? button('Schedule…', () => this.schedule()) : null,
      doc ? button('Open preview', () => this.openPreview()) : null,
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
