// Accessibility: axe-core finds no serious or critical problem on any screen of the admin
// UI (setup, sign-in, dashboard, lists, editors, history, users, tokens, webhooks, account,
// schedules, and the editor's dialogs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { withServer, newPage, api, adminToken, signIn, screenshot } from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical findings of axe on the page as it is, as readable lines. */
async function findings(page) {
  // Evaluated through the DevTools protocol: the admin UI's CSP allows no inline script.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
  return violations;
}

async function check(page, screen, problems) {
  for (const line of await findings(page)) problems.push(`${screen}: ${line}`);
}

test('no screen has a serious or critical accessibility problem', () => withServer('a11y', {}, async (server, browser) => {
  const page = await newPage(browser, server);
  const problems = [];
  await page.goto('/admin/');
  await page.getByRole('heading', { name: 'Set up Dermis' }).waitFor();
  await check(page, 'setup', problems);

  const token = await adminToken(server);
  const topic = (await api(server, '{ topic(slug: "microneedling") { id } condition(slug: "acne") { id } }')).data;
  await page.goto('/admin/');
  await page.getByRole('heading', { name: 'Sign in to Dermis' }).waitFor();
  await check(page, 'sign-in', problems);
  await signIn(page, 'admin@example.org');
  await check(page, 'dashboard', problems);

  const screens = [
    ['#/topics', 'Topics'],
    [`#/topics/${topic.topic.id}`, 'Microneedling'],
    ['#/topics/new', 'New topic'],
    [`#/topics/${topic.topic.id}/history`, 'History: Microneedling'],
    ['#/conditions', 'Conditions'],
    [`#/conditions/${topic.condition.id}`, 'Acne'],
    ['#/side-effects', 'Side effects'],
    ['#/media', 'Media'],
    ['#/scheduled', 'Scheduled'],
    ['#/users', 'Users'],
    ['#/tokens', 'API tokens'],
    ['#/webhooks', 'Webhooks'],
    ['#/account', 'Your account'],
  ];
  for (const [hash, heading] of screens) {
    await page.evaluate((target) => { location.hash = target; }, hash);
    await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
    await check(page, hash, problems);
  }

  // The editor's dialogs.
  await page.evaluate((target) => { location.hash = target; }, `#/topics/${topic.topic.id}`);
  await page.getByRole('heading', { name: 'Microneedling', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Schedule…' }).click();
  await page.getByRole('dialog', { name: 'Schedule this topic' }).waitFor();
  await check(page, 'schedule dialog', problems);
  await page.getByRole('dialog', { name: 'Schedule this topic' }).getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByRole('dialog', { name: 'Approve this topic' }).waitFor();
  await check(page, 'approve dialog', problems);
  await screenshot(page, 'a11y-last');
  assert.ok(token);
  assert.deepEqual(problems, []);
  assert.deepEqual(page.problems, []);
}));
