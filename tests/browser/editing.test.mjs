// Editors never lose work: concurrent saves, unsaved changes, expired tokens, validation;
// history and restore; content shown as text; the users screen is for admins only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, newPage, api, adminToken, createUser, signIn, screenshot, holdWriteLock } from './harness.mjs';

async function sampleTopicId(server) {
  return (await api(server, '{ topic(slug: "microneedling") { id } }')).data.topic.id;
}

test('two editors save the same version with disjoint edits: the second save merges and loses nothing', () => withServer('conflict', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve', 'EDITOR');
  const id = await sampleTopicId(server);
  const ada = await newPage(browser, server);
  const eve = await newPage(browser, server);
  await signIn(ada, 'admin@example.org');
  await signIn(eve, 'eve@example.org');
  for (const page of [ada, eve]) {
    await page.goto(`/admin/#/topics/${id}`);
    await page.getByLabel('Title', { exact: true }).waitFor();
  }
  // Ada and Eve both start from version 1; Ada saves the title first.
  await ada.getByLabel('Title', { exact: true }).fill('Microneedling (collagen induction)');
  await ada.getByRole('button', { name: 'Save', exact: true }).click();
  await ada.getByText('Saved version 2.').waitFor();

  // Eve changed the summary and a feature: merged with Ada's title, no question, no revert.
  const evesSummary = 'Eve\'s careful rewrite of the summary, which must not be lost.';
  await eve.getByLabel('Summary', { exact: true }).fill(evesSummary);
  await eve.getByLabel('Feature 2', { exact: true }).fill('Eve\'s second feature');
  await eve.getByRole('button', { name: 'Save', exact: true }).click();
  await eve.getByText(/Merged your changes with version 2, saved meanwhile \(Title\)\. Saved version 3\./).waitFor();
  assert.equal(await eve.getByRole('dialog').count(), 0);
  const stored = (await api(server, '{ topic(slug: "microneedling") { title summary features version } }')).data.topic;
  assert.equal(stored.title, 'Microneedling (collagen induction)', 'Ada\'s title is kept');
  assert.equal(stored.summary, evesSummary);
  assert.equal(stored.features[1], 'Eve\'s second feature');
  assert.equal(stored.version, 3);
  assert.equal(await eve.getByLabel('Title', { exact: true }).inputValue(), 'Microneedling (collagen induction)', 'Eve now sees Ada\'s title');
  assert.deepEqual([...ada.problems, ...eve.problems], []);
  await screenshot(eve, 'conflict-merged');
}));

test('history shows a readable diff and restores an old version as a new one', () => withServer('history', {}, async (server, browser) => {
  await adminToken(server);
  const id = await sampleTopicId(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Title', { exact: true }).fill('Needling');
  await page.getByLabel('Approve the content as I save it').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved version 2.').waitFor();
  // The editor names the reviewer, and so does the public API.
  await page.locator('.review .reviewed', { hasText: /^Approved .* by Ada Admin\. Next review due / }).waitFor();
  const reviewed = (await api(server, '{ topic(slug: "microneedling") { reviewedBy { displayName } } }')).data.topic;
  assert.deepEqual(reviewed, { reviewedBy: { displayName: 'Ada Admin' } });

  await page.getByRole('link', { name: 'History' }).click();
  await page.getByRole('heading', { name: 'History: Needling' }).waitFor();
  const detail = page.locator('.revision-detail');
  await detail.getByRole('heading', { name: 'Version 2' }).waitFor();
  assert.equal(await detail.locator('.del').first().textContent(), '- Microneedling\n');
  assert.equal(await detail.locator('.ins').first().textContent(), '+ Needling\n');
  const review = detail.getByLabel(/^Medical review:/);
  assert.match(await review.textContent(), /^\+ .* by Ada Admin$/m, 'the history names the reviewer');

  await page.getByRole('button', { name: /^Version 1/ }).click();
  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await page.getByText('Restored version 1 as version 3.').waitFor();
  await page.getByRole('heading', { name: 'Microneedling', level: 1 }).waitFor();
  const topic = (await api(server, `{ topic(slug: "microneedling") { title version } }`)).data.topic;
  assert.deepEqual(topic, { title: 'Microneedling', version: 3 });
  assert.deepEqual(page.problems, []);
  await screenshot(page, 'history-restored');
}));

test('a title full of markup displays literally and runs nothing', () => withServer('xss', {}, async (server, browser) => {
  await adminToken(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  const evil = '<img src=x onerror=alert(1)>';
  await page.goto('/admin/#/topics/new');
  await page.getByLabel('Title', { exact: true }).fill(evil);
  await page.getByLabel('Slug', { exact: true }).fill('evil');
  await page.getByLabel('Body (Markdown)', { exact: true }).fill('<script>alert(2)</script><img src=y onerror=alert(3)> text');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.getByRole('heading', { name: evil }).waitFor();
  await page.goto('/admin/#/topics?q=onerror');
  await page.getByRole('link', { name: evil }).waitFor();
  await page.goto('/admin/#/');
  await page.getByRole('link', { name: evil }).waitFor();
  assert.equal(await page.locator('img').count(), 0, 'no element was made from the title');
  // From the dashboard, which links the topic too: wait for the list before clicking, or the
  // click can land on the dashboard's link as the list replaces it.
  await page.goto('/admin/#/topics?q=onerror');
  await page.getByRole('heading', { name: 'Topics', level: 1 }).waitFor();
  await page.locator('table').getByRole('link', { name: evil }).click();
  await page.locator('.preview').getByText('text').waitFor();
  assert.equal(await page.locator('.preview script, .preview img[onerror]').count(), 0);
  assert.deepEqual(page.problems, [], 'no alert, no error');
  await screenshot(page, 'xss-title');

  // Usable on a phone: nothing wider than the screen, on the list and in the editor.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [screen, heading] of [['#/topics', 'Topics'], ['#/topics/new', 'New topic']]) {
    await page.goto(`/admin/${screen}`);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${screen} is ${overflow}px wider than a phone`);
  }
  await screenshot(page, 'phone-editor');
}));

test('an editor cannot reach the users screen; an admin manages users there', () => withServer('users', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve', 'EDITOR');
  const eve = await newPage(browser, server);
  await signIn(eve, 'eve@example.org');
  assert.equal(await eve.getByRole('link', { name: 'Users' }).count(), 0, 'no Users link for editors');
  await eve.goto('/admin/#/users');
  await eve.getByText('Only administrators manage users.').waitFor();
  assert.equal(await eve.getByRole('table').count(), 0);
  await screenshot(eve, 'editor-users-refused');

  const ada = await newPage(browser, server);
  await signIn(ada, 'admin@example.org');
  await ada.getByRole('link', { name: 'Users' }).click();
  await ada.getByLabel('Email', { exact: true }).fill('sam@example.org');
  await ada.getByLabel('Name', { exact: true }).fill('Sam');
  await ada.getByLabel('Initial password', { exact: true }).fill('short');
  await ada.getByRole('button', { name: 'Add user' }).click();
  await ada.locator('[data-field="password"] .field-error').getByText(/12 characters/).waitFor();
  await ada.getByLabel('Initial password', { exact: true }).fill('a long enough password');
  await ada.getByRole('button', { name: 'Add user' }).click();
  await ada.getByRole('cell', { name: 'sam@example.org', exact: true }).waitFor();
  await ada.getByRole('button', { name: 'Deactivate sam@example.org' }).click();
  await ada.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
  await ada.getByText('Deactivated sam@example.org.').waitFor();
  const users = (await api(server, '{ users { email active } }', {}, token)).data.users;
  assert.deepEqual(users.find((u) => u.email === 'sam@example.org'), { email: 'sam@example.org', active: false });
  assert.deepEqual([...eve.problems, ...ada.problems], []);
  await screenshot(ada, 'users');
}));

test('unsaved changes ask before leaving; an expired token is renewed and the save goes through; errors sit by their field',
  () => withServer('unsaved', { DERMIS_ACCESS_TOKEN_TTL: '2' }, async (server, browser) => {
    await adminToken(server);
    const id = await sampleTopicId(server);
    const page = await newPage(browser, server);
    await signIn(page, 'admin@example.org');
    await page.goto(`/admin/#/topics/${id}`);
    await page.getByLabel('Summary', { exact: true }).fill('Changed but not saved.');

    // Leaving asks; staying keeps the text.
    await page.getByRole('link', { name: 'Conditions' }).click();
    const leave = page.getByRole('dialog', { name: 'Leave without saving?' });
    await leave.waitFor();
    await leave.getByRole('button', { name: 'Cancel' }).click();
    await leave.waitFor({ state: 'detached' });
    assert.equal(await page.getByLabel('Summary', { exact: true }).inputValue(), 'Changed but not saved.');
    assert.match(page.url(), new RegExp(`#/topics/${id}$`));

    // The access token (2 s) expires meanwhile; the save still goes through.
    await page.waitForTimeout(3000);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved version 2.').waitFor();
    assert.equal((await api(server, '{ topic(slug: "microneedling") { summary } }')).data.topic.summary, 'Changed but not saved.');

    // A validation error appears beside its field, and nothing is written.
    await page.getByLabel('Slug', { exact: true }).fill('Not A Slug');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const error = page.locator('[data-field="slug"] .field-error');
    await error.getByText(/lowercase letters/).waitFor();
    assert.equal(await page.getByLabel('Slug', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal((await api(server, '{ topic(slug: "microneedling") { version } }')).data.topic.version, 2);
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'field-error');
  }));

test('the condition picker offers every condition, past the API page size of 100', () => withServer('picker', {}, async (server, browser) => {
  const token = await adminToken(server);
  for (let i = 0; i < 101; i += 1) {
    const body = await api(server, 'mutation($i: CreateConditionInput!) { createCondition(input: $i) { condition { id } } }',
      { i: { name: `Condition ${String(i).padStart(3, '0')}` } }, token);
    assert.ok(body.data, JSON.stringify(body));
  }
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto('/admin/#/topics/new');
  const field = page.getByLabel('Link a condition', { exact: true });
  await page.getByRole('heading', { name: 'New topic', level: 1 }).waitFor();
  // The field searches all of them: 8 sample conditions + 101 drafts.
  const options = page.locator(`datalist#${await field.getAttribute('list')} option`);
  assert.equal(await options.count(), 8 + 101);
  assert.equal(await options.last().getAttribute('value'), 'Wrinkles');
  assert.equal(await options.last().getAttribute('label'), 'Wrinkles');
  assert.equal(await page.locator('datalist option[value="Condition 000"]').getAttribute('label'), 'Condition 000 (draft)', 'drafts say so');
  assert.deepEqual(page.problems, []);
  await screenshot(page, 'picker');
}));

test('the database is out mid-save: the editor is told, stays signed in, and the save lands once it is back',
  () => withServer('outage', {}, async (server, browser) => {
    await adminToken(server);
    const id = await sampleTopicId(server);
    const page = await newPage(browser, server);
    await signIn(page, 'admin@example.org');
    await page.goto(`/admin/#/topics/${id}`);
    const written = 'Written while the database was out.';
    await page.getByLabel('Summary', { exact: true }).fill(written);

    const lock = holdWriteLock(server);
    await lock.held;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const banner = page.locator('#outage');
    await banner.waitFor();
    assert.match(await banner.textContent(), /cannot reach its database\. Your changes are kept/);
    await screenshot(page, 'outage-banner');
    // Still signed in, on the same form, with the work in it; nothing written yet.
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0);
    assert.equal(await page.getByLabel('Summary', { exact: true }).inputValue(), written);
    assert.equal((await api(server, '{ topic(slug: "microneedling") { version } }')).data.topic.version, 1);

    await lock.release();
    await page.getByText('Saved version 2.').waitFor();
    await banner.waitFor({ state: 'hidden' });
    assert.equal((await api(server, '{ topic(slug: "microneedling") { summary } }')).data.topic.summary, written);
    assert.deepEqual(page.problems, []);
  }));

test('an admin creates an API token, sees its secret once, and revokes it', () => withServer('tokens', {}, async (server, browser) => {
  await adminToken(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByText('No API tokens yet.').waitFor();

  // No scope: the error sits by the scopes.
  await page.getByLabel('Name', { exact: true }).fill('Website preview');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.locator('[data-field="scopes"] .field-error').getByText(/at least one scope/).waitFor();

  await page.getByLabel(/^Preview:/).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Copy the token now' });
  await dialog.waitFor();
  const secret = await dialog.getByLabel(/Secret of/).inputValue();
  assert.match(secret, /^dmt_[A-Za-z0-9_-]{43}$/);
  await screenshot(page, 'token-secret');
  await dialog.getByRole('button', { name: 'Done' }).click();

  const row = page.getByRole('row', { name: /Website preview/ });
  await row.waitFor();
  assert.match(await row.textContent(), /Preview.*active/);
  assert.doesNotMatch(await page.content(), new RegExp(secret), 'the secret is not shown again');
  const drafts = '{ topics(filter: { status: [DRAFT] }) { totalCount } }';
  assert.equal((await api(server, drafts, {}, secret)).data?.topics?.totalCount, 0);

  await row.getByRole('button', { name: 'Revoke Website preview' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByRole('row', { name: /Website preview.*revoked/ }).waitFor();
  assert.equal((await api(server, drafts, {}, secret)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.deepEqual(page.problems, []);
}));

test('an admin adds a webhook endpoint, sends a test event and sees it delivered', () => withServer('webhooks', { DERMIS_WEBHOOK_ALLOW_PRIVATE: 'true' }, async (server, browser) => {
  const { createServer } = await import('node:http');
  const { createHmac } = await import('node:crypto');
  const received = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => { received.push({ headers: request.headers, body }); response.end('ok'); });
  });
  await new Promise((resolve) => { receiver.listen(0, '127.0.0.1', resolve); });
  try {
    await adminToken(server);
    const page = await newPage(browser, server);
    await signIn(page, 'admin@example.org');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('No webhook endpoints yet.').waitFor();
    const url = `http://127.0.0.1:${receiver.address().port}/hook`;
    await page.getByLabel('URL', { exact: true }).fill(url);
    await page.getByLabel('Description', { exact: true }).fill('Site revalidation');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Endpoint added' });
    await dialog.waitFor();
    const secret = await dialog.getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_/);
    await dialog.getByRole('button', { name: 'Done' }).click();

    const card = page.getByRole('region', { name: url });
    await card.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test message queued.').waitFor();
    while (received.length === 0) await new Promise((resolve) => { setTimeout(resolve, 50); });
    const [delivery] = received;
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${delivery.headers['webhook-id']}.${delivery.headers['webhook-timestamp']}.${delivery.body}`).digest('base64');
    assert.ok(delivery.headers['webhook-signature'].split(' ').includes(`v1,${expected}`), 'verifies with the secret shown');
    // And with the Standard Webhooks reference verifier from npm, as a Node.js receiver would.
    const { Webhook } = await import('standardwebhooks');
    const verified = new Webhook(secret).verify(delivery.body, delivery.headers);
    assert.equal(verified.type, 'webhook.test');
    assert.throws(() => new Webhook(secret).verify(`${delivery.body} `, delivery.headers), /signature/i);
    assert.equal(JSON.parse(delivery.body).type, 'webhook.test');

    // The log shows it delivered (after the attempt is recorded).
    for (;;) {
      await page.goto('/admin/#/');
      await page.goto('/admin/#/webhooks');
      const row = page.getByRole('region', { name: url }).getByRole('row', { name: /webhook\.test/ });
      await row.waitFor();
      if (/delivered/.test(await row.textContent())) break;
      await page.waitForTimeout(100);
    }
    await screenshot(page, 'webhooks');
    assert.deepEqual(page.problems, []);
  } finally {
    receiver.close();
  }
}));
