// API tokens (administrators only): create one for an integration, see its secret once,
// see when each was last used, revoke.

import { h, replace, field, when } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { pageHeader, say, alertError, submitForm, confirmAction, dialog } from '../ui.js';
import { go } from '../nav.js';

const TOKEN = 'id name prefix scopes active createdAt expiresAt revokedAt lastUsedAt createdBy { displayName }';
const SCOPES = [
  ['PREVIEW', 'Preview', 'read drafts (a frontend\'s draft mode)'],
  ['CONTENT_WRITE', 'Content write', 'create, edit, publish and delete content'],
  ['WEBHOOKS_MANAGE', 'Webhooks', 'manage webhook endpoints and their deliveries'],
];

function state(token) {
  if (token.revokedAt) return 'revoked';
  return token.active ? 'active' : 'expired';
}

/** Shows the API tokens screen; editors are told it is not theirs. */
export async function tokensScreen(main) {
  if (currentUser()?.role !== 'ADMIN') {
    replace(main, h('h1', {}, 'API tokens'), h('p', { class: 'notice' }, 'Only administrators manage API tokens.'),
      h('a', { href: '#/' }, 'Back to the dashboard'));
    return;
  }
  const { apiTokens } = await gql(`{ apiTokens { ${TOKEN} } }`);

  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const boxes = SCOPES.map(([value, label, hint]) => {
    const box = h('input', { type: 'checkbox', name: 'scopes', value, id: `scope-${value}` });
    return { box, row: h('div', { class: 'check' }, box, h('label', { for: `scope-${value}` }, `${label}: ${hint}`)) };
  });
  const days = h('input', { type: 'number', name: 'expiresInDays', min: '1', step: '1', inputmode: 'numeric' });
  const create = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Create a token'),
    field('Name', name, { name: 'name', hint: 'What it is for, e.g. "Website preview".' }),
    h('fieldset', { 'data-field': 'scopes' }, h('legend', {}, 'Scopes'), ...boxes.map((b) => b.row), h('p', { class: 'field-error', hidden: true })),
    field('Expires after (days)', days, { name: 'expiresAt', hint: 'Leave empty for a token that does not expire.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create token')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(create, async () => {
      const expiresAt = days.value ? new Date(Date.now() + Number(days.value) * 86_400_000).toISOString() : null;
      const scopes = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
      const { createApiToken } = await gql(`mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret apiToken { ${TOKEN} } } }`,
        { input: { name: name.value, scopes, expiresAt } });
      const secret = h('input', { id: 'new-token-secret', readonly: true, value: createApiToken.secret, class: 'secret' });
      await dialog('Copy the token now', [
        h('label', { for: 'new-token-secret' }, `Secret of "${createApiToken.apiToken.name}"`), secret,
        h('p', { class: 'hint' }, 'It is shown this once; Dermis keeps only a hash. Send it as "Authorization: Bearer <secret>".'),
      ], [{ label: 'Done', value: 'done', kind: 'primary' }]);
      say(`Created the token "${createApiToken.apiToken.name}".`);
      await go('#/tokens');
    });
  });

  async function revoke(token) {
    if (!(await confirmAction(`Revoke "${token.name}"?`, 'Requests with it are refused from now on, on every server.', 'Revoke'))) return;
    try {
      await gql('mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id active } } }', { id: token.id });
      say(`Revoked "${token.name}".`);
      await go('#/tokens');
    } catch (error) {
      alertError(error.message);
    }
  }

  replace(main,
    pageHeader('API tokens'),
    apiTokens.length === 0 ? h('p', { class: 'notice' }, 'No API tokens yet.') : h('table', { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'API tokens'),
      h('thead', {}, h('tr', {}, ['Name', 'Token', 'Scopes', 'State', 'Created', 'Expires', 'Last used', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, apiTokens.map((token) => h('tr', {},
        h('td', {}, token.name),
        h('td', {}, h('code', {}, `${token.prefix}…`)),
        h('td', {}, token.scopes.map((s) => SCOPES.find(([value]) => value === s)?.[1] || s).join(', ')),
        h('td', {}, state(token)),
        h('td', {}, `${when(token.createdAt)} by ${token.createdBy.displayName}`),
        h('td', {}, token.expiresAt ? when(token.expiresAt) : 'never'),
        h('td', {}, token.lastUsedAt ? when(token.lastUsedAt) : 'never'),
        h('td', { class: 'row-actions' },
          token.active ? h('button', { type: 'button', class: 'danger', onclick: () => revoke(token), 'aria-label': `Revoke ${token.name}` }, 'Revoke') : null))))),
    create);
}
