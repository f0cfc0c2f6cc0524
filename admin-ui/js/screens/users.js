// Users (administrators only): create, deactivate, reset a password.

import { h, replace, field, when } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { ROLES } from '../kinds.js';
import { pageHeader, say, alertError, submitForm, confirmAction, formDialog } from '../ui.js';
import { go } from '../nav.js';

const USER = 'id email displayName role active lastLoginAt';

/** Shows the users screen; editors are told it is not theirs. */
export async function usersScreen(main) {
  if (currentUser()?.role !== 'ADMIN') {
    replace(main, h('h1', {}, 'Users'), h('p', { class: 'notice' }, 'Only administrators manage users.'),
      h('a', { href: '#/' }, 'Back to the dashboard'));
    return;
  }
  const { users } = await gql(`{ users { ${USER} } }`);

  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { name: 'displayName', required: true, autocomplete: 'off' });
  const role = h('select', { name: 'role' }, ROLES.map(([value, label]) => h('option', { value }, label)));
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password' });
  const create = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Add a user'),
    h('div', { class: 'grid-2' },
      field('Email', email, { name: 'email' }),
      field('Name', name, { name: 'displayName' }),
      field('Role', role, { name: 'role' }),
      field('Initial password', password, { name: 'password', hint: 'At least 12 characters. Tell it to them in person; they can change it.' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(create, async () => {
      await gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { ${USER} } } }`,
        { input: { email: email.value, displayName: name.value, role: role.value, password: password.value } });
      say(`Added ${email.value}.`);
      await go('#/users');
    });
  });

  async function deactivate(user) {
    if (!(await confirmAction(`Deactivate ${user.email}?`, 'They can no longer sign in, and every session they have ends now.', 'Deactivate'))) return;
    try {
      await gql('mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { id active } } }', { id: user.id });
      say(`Deactivated ${user.email}.`);
      await go('#/users');
    } catch (error) {
      alertError(error.message);
    }
  }

  async function resetPassword(user) {
    const input = h('input', { type: 'password', autocomplete: 'new-password', name: 'newPassword' });
    const done = await formDialog({
      title: `New password for ${user.email}`,
      body: [
        field('New password', input, { name: 'newPassword', hint: 'At least 12 characters. Their sessions end; they sign in with this password.' }),
      ],
      submitLabel: 'Set password',
      cancelLabel: 'Cancel',
      focus: input,
      action: () => gql('mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { user { id } } }', { input: { id: user.id, newPassword: input.value } }),
    });
    if (done) say(`Set a new password for ${user.email}.`);
  }

  const me = currentUser();
  replace(main,
    pageHeader('Users'),
    h('table', { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'State', 'Last sign-in', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, users.map((user) => h('tr', {},
        h('td', {}, user.email),
        h('td', {}, user.displayName),
        h('td', {}, (ROLES.find(([value]) => value === user.role) ?? [null, user.role])[1]),
        h('td', {}, user.active ? 'active' : 'deactivated'),
        h('td', {}, when(user.lastLoginAt)),
        h('td', { class: 'row-actions' },
          user.active ? h('button', { type: 'button', onclick: () => resetPassword(user), 'aria-label': `Reset password of ${user.email}` }, 'Reset password') : null,
          user.active && user.id !== me.id ? h('button', { type: 'button', class: 'danger', onclick: () => deactivate(user), 'aria-label': `Deactivate ${user.email}` }, 'Deactivate') : null))))),
    create);
}
