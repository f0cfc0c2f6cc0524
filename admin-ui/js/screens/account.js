// The signed-in user's own account: change the password.

import { h, replace, field } from '../dom.js';
import { currentUser, changePassword } from '../api.js';
import { pageHeader, say, submitForm } from '../ui.js';

/** Shows the account screen. */
export function accountScreen(main) {
  const user = currentUser();
  const current = h('input', { type: 'password', name: 'currentPassword', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', name: 'newPassword', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h2', {}, 'Change your password'),
    field('Current password', current, { name: 'currentPassword' }),
    field('New password', next, { name: 'newPassword', hint: 'At least 12 characters. Your other sessions end.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Change password')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(form, async () => {
      await changePassword(current.value, next.value);
      current.value = '';
      next.value = '';
      say('Your password is changed.');
    });
  });
  replace(main,
    pageHeader('Your account'),
    h('p', {}, `${user.displayName} · ${user.email} · ${user.role === 'ADMIN' ? 'administrator' : 'editor'}`),
    form);
}
