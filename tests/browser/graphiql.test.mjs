// GraphiQL at GET /graphql: served whole from the binary, it works with no other host
// reachable, under the same Content-Security-Policy as the admin UI.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, screenshot, screenshotAll } from './harness.mjs';

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

test('GraphiQL loads from the server alone and runs a query under the CSP', async (t) => {
  t.after(async () => { if (!t.passed) await screenshotAll(server, 'failed-graphiql'); });
  const page = await newPage(browser, server);
  // Any request to another host fails, as on a network without the internet, and is noted.
  const elsewhere = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === server.base) return route.continue();
    elsewhere.push(url.href);
    return route.abort();
  });
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto('/graphql');
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  assert.match(response.headers()['content-type'], /^text\/html/);

  // The editor comes up with the default query; running it shows the sample topic.
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor();
  await run.click();
  await page.locator('.result-window').getByText('"Microneedling"').waitFor();
  // Schema documentation comes from introspection, through the same fetcher.
  await page.getByRole('button', { name: /documentation/i }).click();
  await page.getByText('Root Types').waitFor();

  await screenshot(page, 'graphiql');
  assert.deepEqual(elsewhere, [], 'no request left the server');
  assert.deepEqual(violations, [], 'nothing broke the Content-Security-Policy');
  assert.deepEqual(page.problems, []);
});
