// Signing in, and creating the first admin of a new server.

import { h, replace, field } from '../dom.js';
import { login, createFirstAdmin } from '../api.js';
import { submitForm, say, formDialog } from '../ui.js';

function submitButton(label) {
  return h('button', { type: 'submit', class: 'primary' }, label);
}

/** The first-admin screen: shown while the server has no user. */
export function setupScreen(main, done) {
  const code = h('input', { name: 'setupCode', required: true, autocomplete: 'off', spellcheck: 'false' });
  const email = h('input', { name: 'email', type: 'email', required: true, autocomplete: 'username' });
  const name = h('input', { name: 'displayName', required: true, autocomplete: 'name' });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Set up Dermis'),
    h('p', {}, 'No one has an account yet. Create the first administrator with the one-time setup code that the server printed to its log when it started.'),
    field('Setup code', code, { name: 'setupCode' }),
    field('Email', email, { name: 'email' }),
    field('Your name', name, { name: 'displayName' }),
    field('Password', password, { name: 'password', hint: 'At least 12 characters.' }),
    h('div', { class: 'actions' }, submitButton('Create administrator')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(form, async () => {
      await createFirstAdmin({ setupCode: code.value.trim(), email: email.value, displayName: name.value, password: password.value });
      say('Administrator created. Welcome!');
      done();
    });
  });
  replace(main, form);
}

/** The sign-in screen. */
export function loginScreen(main, done) {
  const email = h('input', { name: 'email', type: 'email', required: true, autocomplete: 'username' });
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Sign in to Dermis'),
    field('Email', email, { name: 'email' }),
    field('Password', password, { name: 'password' }),
    h('div', { class: 'actions' }, submitButton('Sign in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(form, async () => {
      await login(email.value, password.value);
      done();
    });
  });
  replace(main, form);
}


/**
 * Asks the editor whose session ended under a request (its refresh token expired, or the
 * password was changed in another tab) for their password, in a dialog over the screen, so
 * the form and the work in it stay; resolves true once signed in again (the request is then
 * sent again), false when they choose to sign out.
 */
export function signInAgainDialog(user) {
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  return formDialog({
    title: 'Your session has ended',
    body: [
      h('p', {}, `Sign in again as ${user.email} to go on. Your changes are still here; what you were saving is sent once you are signed in.`),
      field('Password', password, { name: 'password' }),
    ],
    submitLabel: 'Sign in',
    cancelLabel: 'Sign out',
    focus: password,
    action: () => login(user.email, password.value),
    describe: (error) => (error.code === 'UNAUTHENTICATED' ? 'That password is not right.' : error.message),
  });
}
