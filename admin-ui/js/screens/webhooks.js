// Webhooks (administrators only): endpoints that receive signed content events, their
// delivery log, test messages, redelivery, secret rotation.

import { h, replace, field, when } from '../dom.js';
import { gql, currentUser } from '../api.js';
import { pageHeader, say, alertError, submitForm, confirmAction, dialog } from '../ui.js';
import { go } from '../nav.js';

const ENDPOINT = `id url description eventTypes enabled disabledReason failingSince createdAt
  deliveries(first: 10) { id eventType status attemptCount lastStatusCode createdAt deliveredAt
    attempts { attemptedAt statusCode durationMs response } }`;

function showSecret(title, secret) {
  const input = h('input', { id: 'webhook-secret', readonly: true, value: secret, class: 'secret' });
  return dialog(title, [
    h('label', { for: 'webhook-secret' }, 'Signing secret'), input,
    h('p', { class: 'hint' }, 'Shown this once. Verify deliveries with it (any Standard Webhooks library).'),
  ], [{ label: 'Done', value: 'done', kind: 'primary' }]);
}

async function act(action, done) {
  try {
    await action();
    say(done);
    await go('#/webhooks');
  } catch (error) {
    alertError(error.message);
  }
}

function deliveryLog(endpoint) {
  if (endpoint.deliveries.length === 0) return h('p', { class: 'hint' }, 'No deliveries yet.');
  return h('table', { class: 'list' },
    h('caption', {}, `Latest deliveries to ${endpoint.url}`),
    h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Last answer', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, endpoint.deliveries.map((d) => h('tr', {},
      h('td', {}, d.eventType),
      h('td', {}, d.status),
      h('td', {}, String(d.attemptCount)),
      h('td', { title: d.attempts.at(-1)?.response || '' }, d.lastStatusCode ? String(d.lastStatusCode) : (d.attempts.length ? 'no answer' : '—')),
      h('td', {}, when(d.createdAt)),
      h('td', { class: 'row-actions' }, h('button', {
        type: 'button',
        'aria-label': `Redeliver ${d.eventType} ${d.id}`,
        onclick: () => act(() => gql('mutation($id: ID!) { redeliverWebhook(input: { id: $id }) { delivery { id } } }', { id: d.id }), 'Queued for redelivery.'),
      }, 'Redeliver'))))));
}

/** Shows the webhooks screen; editors are told it is not theirs. */
export async function webhooksScreen(main) {
  if (currentUser()?.role !== 'ADMIN') {
    replace(main, h('h1', {}, 'Webhooks'), h('p', { class: 'notice' }, 'Only administrators manage webhooks.'),
      h('a', { href: '#/' }, 'Back to the dashboard'));
    return;
  }
  const { webhookEndpoints, webhookEventTypes } = await gql(`{ webhookEndpoints { ${ENDPOINT} } webhookEventTypes }`);

  const url = h('input', { type: 'url', name: 'url', required: true, autocomplete: 'off', placeholder: 'https://site.example/api/dermis-webhook' });
  const description = h('input', { name: 'description', autocomplete: 'off' });
  const types = h('select', { name: 'eventTypes', multiple: true, size: 6 }, ...webhookEventTypes.map((t) => h('option', { value: t }, t)));
  const create = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Add an endpoint'),
    field('URL', url, { name: 'url' }),
    field('Description', description, { name: 'description' }),
    field('Events', types, { name: 'eventTypes', hint: 'Select none to receive every event.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add endpoint')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    submitForm(create, async () => {
      const eventTypes = [...types.selectedOptions].map((o) => o.value);
      const { createWebhookEndpoint } = await gql('mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }',
        { input: { url: url.value, description: description.value, eventTypes } });
      await showSecret('Endpoint added', createWebhookEndpoint.secret);
      say(`Added ${url.value}.`);
      await go('#/webhooks');
    });
  });

  const cards = webhookEndpoints.map((endpoint) => h('section', { class: 'card', 'aria-label': endpoint.url },
    h('h2', {}, endpoint.url),
    h('p', {}, endpoint.description || ''),
    h('p', {}, `Events: ${endpoint.eventTypes.length ? endpoint.eventTypes.join(', ') : 'all'}`),
    h('p', { class: endpoint.enabled ? '' : 'notice' }, endpoint.enabled
      ? (endpoint.failingSince ? `Enabled; failing since ${when(endpoint.failingSince)}` : 'Enabled')
      : `Disabled: ${endpoint.disabledReason || ''}`),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => act(() => gql('mutation($id: ID!) { sendTestWebhook(input: { id: $id }) { delivery { id } } }', { id: endpoint.id }), 'Test message queued.') }, 'Send test event'),
      h('button', { type: 'button', onclick: async () => {
        try {
          const { rotateWebhookSecret } = await gql('mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret } }', { id: endpoint.id });
          await showSecret('New secret (the old one signs too for 24 hours)', rotateWebhookSecret.secret);
        } catch (error) {
          alertError(error.message);
        }
      } }, 'Rotate secret'),
      h('button', { type: 'button', onclick: () => act(() => gql('mutation($id: ID!, $on: Boolean!) { updateWebhookEndpoint(input: { id: $id, enabled: $on }) { endpoint { id } } }', { id: endpoint.id, on: !endpoint.enabled }), endpoint.enabled ? 'Disabled.' : 'Enabled.') }, endpoint.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!(await confirmAction(`Delete ${endpoint.url}?`, 'Its delivery log goes with it.', 'Delete'))) return;
        await act(() => gql('mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedId } }', { id: endpoint.id }), 'Deleted.');
      } }, 'Delete')),
    deliveryLog(endpoint)));

  replace(main,
    pageHeader('Webhooks'),
    h('p', { class: 'hint' }, 'Each endpoint receives the content events it asks for, signed (Standard Webhooks), retried for about a day.'),
    ...(cards.length ? cards : [h('p', { class: 'notice' }, 'No webhook endpoints yet.')]),
    create);
}
