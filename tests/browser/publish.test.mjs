// Setup, sign-in, writing a topic with its links, publishing: the public API then serves it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, api, screenshot, screenshotAll, unnamedControls, PASSWORD } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('first admin setup, then a topic written, linked and published is public', async (t) => {
  t.after(async () => { if (!t.passed) await screenshotAll(server, 'failed-publish'); });
  const page = await newPage(browser, server);
  await page.goto('/admin/');

  // Setup: the server needs its first admin; the code comes from its log.
  await page.getByRole('heading', { name: 'Set up Dermis' }).waitFor();
  await page.getByLabel('Setup code', { exact: true }).fill('WRONGCODE000');
  await page.getByLabel('Email', { exact: true }).fill('ada@example.org');
  await page.getByLabel('Your name', { exact: true }).fill('Ada');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByText('the setup code is not correct').waitFor();
  await page.getByLabel('Setup code', { exact: true }).fill(server.setupCode);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('heading', { name: 'Hello, Ada' }).waitFor();
  assert.equal(await page.locator('[data-count="topics-published"]').textContent(), '1', 'the sample topic');

  // A new topic with ordered lists and links with their attributes.
  await page.getByRole('link', { name: 'New topic' }).click();
  await page.getByRole('heading', { name: 'New topic' }).waitFor();
  await page.getByLabel('Title', { exact: true }).fill('Chemical Peel');
  await page.getByLabel('Summary', { exact: true }).fill('An acid solution removes the outer layers of skin.');
  await page.getByLabel('Body (Markdown)', { exact: true }).fill('## How it works\n\nAn acid is *applied* and neutralised.');
  await page.locator('.preview h2', { hasText: 'How it works' }).waitFor();
  assert.equal(await page.locator('.preview em').textContent(), 'applied', 'live preview renders Markdown');
  for (const feature of ['Quick', 'Adjustable depth']) {
    await page.getByRole('button', { name: 'Add feature' }).click();
    await page.getByLabel(/^Feature \d+$/).last().fill(feature);
  }
  await page.getByRole('button', { name: 'Move Feature 2 up' }).click();
  await page.getByRole('button', { name: 'Add benefit' }).click();
  await page.getByLabel('Benefit 1', { exact: true }).fill('Smoother skin');

  await page.getByLabel('Link a condition', { exact: true }).fill('Scarring');
  await page.getByRole('button', { name: 'Add condition' }).click();
  await page.getByLabel('Note on Scarring', { exact: true }).fill('Medium-depth peels');
  await page.getByLabel('Link a side effect', { exact: true }).fill('redness');
  await page.getByRole('button', { name: 'Add side effect' }).click();
  await page.getByLabel('How severe: Redness', { exact: true }).selectOption('MODERATE');
  await page.getByLabel('Note on Redness', { exact: true }).fill('For a few days');

  assert.deepEqual(await unnamedControls(page), [], 'every control of the editor has a name');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.getByText('Created the draft topic.').waitFor();
  await page.getByRole('heading', { name: 'Chemical Peel' }).waitFor();
  await page.getByText(/version 1/).waitFor();

  const anonymous = `{ topic(slug: "chemical-peel") { title features conditions { note node { name } } sideEffects { frequency severity duration note node { name } } } }`;
  assert.equal((await api(server, anonymous)).data.topic, null, 'a draft is not public');

  // An admin approves (as a reviewer would) before publishing.
  await page.getByRole('button', { name: 'Approve' }).click();
  const approve = page.getByRole('dialog', { name: 'Approve this topic' });
  await approve.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Approved.', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.getByText('The topic is now published.').waitFor();
  const seen = (await api(server, anonymous)).data.topic;
  assert.deepEqual(seen, {
    title: 'Chemical Peel',
    features: ['Adjustable depth', 'Quick'],
    conditions: [{ note: 'Medium-depth peels', node: { name: 'Scarring' } }],
    sideEffects: [{ frequency: 'COMMON', severity: 'MODERATE', duration: 'TEMPORARY', note: 'For a few days', node: { name: 'Redness' } }],
  });
  assert.deepEqual(page.problems, []);
  await screenshot(page, 'publish-topic-editor');
});
