// Shared screen furniture: announcements, confirmation dialogs, field errors, unsaved-work
// protection.

import { h, append } from './dom.js';

/**
 * Announces an outcome in a toast (polite, for screen readers too) that goes by itself:
 * `tone` 'done' (green, a success) or 'note' (neutral: nothing happened, or a hint). Errors
 * are `alertError`'s, never green.
 */
export function say(message, tone = 'done') {
  const status = document.getElementById('status');
  status.textContent = '';
  status.dataset.tone = tone;
  // A fresh text node is announced even when the same message repeats.
  requestAnimationFrame(() => { status.textContent = message; });
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { status.textContent = ''; }, 6000);
}

/** Announces an error (assertive) until the next screen or `clearAlert`. */
export function alertError(message) {
  const alert = document.getElementById('alert');
  alert.textContent = message;
}

/** Clears the error banner. */
export function clearAlert() {
  document.getElementById('alert').textContent = '';
}

/**
 * A modal dialog; resolves with the value of the button pressed (or null when dismissed).
 * `body` is nodes; `buttons` is [{label, value, kind}].
 */
export function dialog(title, body, buttons) {
  return new Promise((resolve) => {
    const el = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' }, buttons.map((b) => h('button', {
        type: 'button',
        class: b.kind || '',
        onclick: () => { el.close(); el.remove(); resolve(b.value); },
      }, b.label))));
    el.addEventListener('cancel', () => resolve(null));
    el.addEventListener('close', () => el.remove());
    document.body.append(el);
    el.showModal();
    el.querySelector('button:not(.danger)')?.focus();
  });
}

/**
 * A dialog holding a small form. `action()` runs on submit: an error it throws is shown in
 * the dialog, which stays open with `focus` focused again (a short password does not close
 * it); success closes it. `body` is nodes; the first field is focused, not a button.
 * Resolves true when the action succeeded, false when `cancelLabel` was chosen. Escape does
 * not dismiss it: only the buttons decide.
 */
export function formDialog({ title, body, submitLabel, cancelLabel, focus, action, describe = (error) => error.message, panel = false }) {
  return new Promise((resolve) => {
    const problem = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const cancel = h('button', { type: 'button' }, cancelLabel);
    const form = h('form', { novalidate: true }, body, problem, h('div', { class: 'actions' }, cancel, submit));
    const el = h('dialog', { class: panel ? 'dialog side-panel' : 'dialog', 'aria-labelledby': 'form-dialog-title' },
      h('h2', { id: 'form-dialog-title' }, title), form);
    const finish = (value) => { el.close(); el.remove(); resolve(value); };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      problem.hidden = true;
      try {
        await action();
        finish(true);
      } catch (error) {
        problem.textContent = describe(error);
        problem.hidden = false;
        focus?.setAttribute('aria-invalid', 'true');
        focus?.focus();
      } finally {
        submit.disabled = false;
      }
    });
    cancel.addEventListener('click', () => finish(false));
    el.addEventListener('cancel', (event) => event.preventDefault());
    document.body.append(el);
    el.showModal();
    (focus || submit).focus();
  });
}

/** Asks to confirm; resolves true when confirmed. */
export async function confirmAction(title, message, confirmLabel, kind = 'danger') {
  const answer = await dialog(title, [h('p', {}, message)], [
    { label: 'Cancel', value: false },
    { label: confirmLabel, value: true, kind },
  ]);
  return answer === true;
}

/** Clears the field errors in `form`. */
export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Shows a BAD_USER_INPUT error beside its field: `input.title` finds `[data-field="title"]`,
 * `input.conditions[1]` the second condition row or else the conditions block. Returns
 * whether a field took it.
 */
export function showFieldError(form, fieldPath, message) {
  if (!fieldPath) return false;
  const path = fieldPath.replace(/^input\./, '');
  const candidates = [path, path.replace(/\.[^.[\]]+$/, ''), path.replace(/\[\d+\].*$/, '')];
  for (const name of candidates) {
    const holder = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!holder) continue;
    const error = holder.querySelector(':scope > .field-error') || holder.querySelector('.field-error');
    // In a row of several inputs, the one the path ends with (`references[0].url`).
    const part = path.match(/\.([^.[\]]+)$/)?.[1];
    const control = (part && holder.querySelector(`[data-part="${CSS.escape(part)}"]`))
      || holder.querySelector('input, select, textarea');
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    }
    return true;
  }
  return false;
}

/**
 * Reports an API error: a BAD_USER_INPUT beside its field in `form` when one takes it,
 * anything else in the banner (a throttled login says when to try again).
 */
export function reportError(form, error) {
  if (error.code === 'BAD_USER_INPUT' && showFieldError(form, error.field, error.message)) {
    say('Please correct the marked field.', 'note');
    return;
  }
  alertError(error.code === 'RATE_LIMITED'
    ? `${error.message} Try again in ${Math.ceil((error.extensions.retryAfter || 60) / 60)} minute(s).`
    : error.message);
}

/** Runs a form's `action` with its submit button disabled; errors go to `reportError`. */
export async function submitForm(form, action) {
  const button = form.querySelector('button[type="submit"]');
  clearFieldErrors(form);
  clearAlert();
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    reportError(form, error);
  } finally {
    button.disabled = false;
  }
}

// ----- unsaved work ----------------------------------------------------------------------

let dirtyCheck = null;
let onDiscard = null;

/**
 * Registers the current screen's "has unsaved changes?" check (null when none), and what
 * to do when the editor chooses to leave them (forget the copy kept in the browser).
 */
export function guardUnsaved(check, discard = null) {
  dirtyCheck = check;
  onDiscard = check ? discard : null;
}

/** Whether the current screen holds unsaved changes. */
export function hasUnsaved() {
  return Boolean(dirtyCheck && dirtyCheck());
}

/** Asks whether to leave a screen with unsaved changes; true when leaving is fine. */
export async function mayLeave() {
  if (!hasUnsaved()) return true;
  const leave = await confirmAction('Leave without saving?', 'You have unsaved changes on this screen. If you leave, they are lost.', 'Leave and discard');
  if (leave) onDiscard?.();
  return leave;
}

window.addEventListener('beforeunload', (event) => {
  if (hasUnsaved()) {
    event.preventDefault();
    event.returnValue = '';
  }
});

/** A small "empty" placeholder. */
export function empty(message) {
  return h('p', { class: 'empty' }, message);
}

/** A page heading plus optional actions. */
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', {}, title), append(h('div', { class: 'actions' }), actions));
}
