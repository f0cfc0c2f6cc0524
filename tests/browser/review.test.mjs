// The medical review and scheduled publishing in the admin UI: an editor submits, a
// reviewer finds the topic in the dashboard's queue and approves it, the editor publishes;
// an admin publishing unreviewed content says why; a schedule publishes at its time and a
// refused one shows its reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, newPage, api, adminToken, createUser, signIn, screenshot } from './harness.mjs';

const byTitle = async (server, token, slug) => (await api(server, `query($s: String!) { topic(slug: $s, preview: true) { id version status approved } }`, { s: slug }, token)).data.topic;

/** Shows `hash` afresh without reloading the page (a reload signs out: tokens live in memory). */
async function revisit(page, hash) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.getByRole('heading', { name: /^Hello,/ }).waitFor();
  await page.evaluate((target) => { location.hash = target; }, hash);
}

/** A datetime-local value `seconds` from now, in the page's time zone. */
function inSeconds(page, seconds) {
  return page.evaluate((s) => {
    const d = new Date(Date.now() + s * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }, seconds);
}

test('an editor submits, a reviewer approves from the queue, the editor publishes', () => withServer('review', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve Editor', 'EDITOR');
  await createUser(server, token, 'dr.lee@example.org', 'Dr. Lee', 'REVIEWER');
  const made = await api(server, 'mutation { createTopic(input: { title: "Chemical Peel", summary: "An acid removes the outer layer." }) { topic { id } } }', {}, token);
  const id = made.data.createTopic.topic.id;

  const editor = await newPage(browser, server);
  await signIn(editor, 'eve@example.org');
  await editor.goto(`/admin/#/topics/${id}`);
  await editor.getByText('Not reviewed yet.').waitFor();
  // An editor sees no approval controls, and publishing unreviewed content is explained.
  assert.equal(await editor.getByRole('button', { name: 'Approve' }).count(), 0);
  await editor.getByRole('button', { name: 'Publish' }).click();
  await editor.getByText(/has not been approved since its content last changed/).waitFor();
  await editor.getByRole('button', { name: 'Submit for review' }).click();
  await editor.getByText('Submitted for review.').waitFor();
  assert.equal((await byTitle(server, token, 'chemical-peel')).status, 'IN_REVIEW');

  const reviewer = await newPage(browser, server);
  await signIn(reviewer, 'dr.lee@example.org');
  const waiting = reviewer.locator('[data-queue="waiting"]');
  await waiting.getByRole('link', { name: 'Chemical Peel' }).waitFor();
  assert.match(await waiting.textContent(), /Waiting for review \(1\)/);
  await screenshot(reviewer, 'review-queue');
  await waiting.getByRole('link', { name: 'Chemical Peel' }).click();
  await reviewer.getByRole('button', { name: 'Request changes' }).click();
  let ask = reviewer.getByRole('dialog', { name: 'Request changes' });
  await ask.getByRole('button', { name: 'Send back to draft' }).click();
  await ask.getByText('Say what must change.').waitFor();
  await ask.getByLabel('What must change', { exact: true }).fill('Cite a source for the downtime.');
  await ask.getByRole('button', { name: 'Send back to draft' }).click();
  await reviewer.getByText('Sent back to draft with your note.').waitFor();

  // The editor sees the note, fixes, submits again; the reviewer approves.
  await revisit(editor, `#/topics/${id}`);
  await editor.getByText('Cite a source for the downtime.').waitFor();
  await editor.getByRole('button', { name: 'Add reference' }).click();
  await editor.getByLabel('Reference 1 title', { exact: true }).fill('Peel review, 2024');
  await editor.getByRole('button', { name: 'Submit for review' }).click();
  // Saved, then submitted (the status line of the first submission may still show).
  await editor.locator('.meta .badge-in-review').waitFor();
  const submitted = (await api(server, `query($id: ID!) { topic(id: $id, preview: true) { references { title } status } }`, { id }, token)).data.topic;
  assert.deepEqual(submitted, { references: [{ title: 'Peel review, 2024' }], status: 'IN_REVIEW' });

  await revisit(reviewer, `#/topics/${id}`);
  await reviewer.getByRole('button', { name: 'Approve' }).click();
  ask = reviewer.getByRole('dialog', { name: 'Approve this topic' });
  await ask.getByLabel('Note for the editors (optional)', { exact: true }).fill('Accurate.');
  await ask.getByRole('button', { name: 'Approve' }).click();
  await reviewer.getByText('Approved.', { exact: true }).waitFor();
  await reviewer.getByText(/Approved .* by Dr\. Lee\. Next review due/).waitFor();

  await revisit(editor, `#/topics/${id}`);
  await editor.getByText(/Approved .* by Dr\. Lee/).waitFor();
  await editor.getByRole('button', { name: 'Publish' }).click();
  await editor.getByText('The topic is now published.').waitFor();
  const seen = (await api(server, '{ topic(slug: "chemical-peel") { reviewedBy { displayName } } }')).data.topic;
  assert.deepEqual(seen, { reviewedBy: { displayName: 'Dr. Lee' } });
  assert.deepEqual(editor.problems, []);
  assert.deepEqual(reviewer.problems, []);
}));

test('an admin publishing unreviewed content gives a reason, kept in the history', () => withServer('override', {}, async (server, browser) => {
  const token = await adminToken(server);
  const made = await api(server, 'mutation { createTopic(input: { title: "Urgent Notice" }) { topic { id } } }', {}, token);
  const id = made.data.createTopic.topic.id;
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByRole('button', { name: 'Publish' }).click();
  const ask = page.getByRole('dialog', { name: 'Publish without review?' });
  await ask.getByRole('button', { name: 'Publish without review' }).click();
  await ask.getByText('Say why it cannot wait for a review.').waitFor();
  await ask.getByLabel('Reason', { exact: true }).fill('Safety correction; review booked for Monday.');
  await ask.getByRole('button', { name: 'Publish without review' }).click();
  await page.getByText('The topic is now published.').waitFor();
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByText('published without review (admin override): Safety correction; review booked for Monday.').waitFor();
  assert.deepEqual(page.problems, []);
}));

test('a schedule publishes at its time; a refused one shows why', () => withServer('schedule', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve Editor', 'EDITOR');
  const ready = (await api(server, 'mutation { createTopic(input: { title: "Ready Peel" }) { topic { id } } }', {}, token)).data.createTopic.topic.id;
  await api(server, 'mutation($id: ID!) { approveTopic(input: { id: $id, expectedVersion: 1 }) { topic { id } } }', { id: ready }, token);
  const unready = (await api(server, 'mutation { createTopic(input: { title: "Unready Peel" }) { topic { id } } }', {}, token)).data.createTopic.topic.id;

  const page = await newPage(browser, server);
  await signIn(page, 'eve@example.org');
  for (const [id, seconds, title] of [[ready, 4, 'Ready Peel'], [unready, 2, 'Unready Peel']]) {
    await page.goto(`/admin/#/topics/${id}`);
    await page.getByRole('heading', { name: title, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Schedule…' }).click();
    const ask = page.getByRole('dialog', { name: 'Schedule this topic' });
    await ask.getByLabel('When (your local time)').fill(await inSeconds(page, seconds));
    await ask.getByRole('button', { name: 'Schedule' }).click();
    await ask.waitFor({ state: 'detached' });
    await page.getByText(/Scheduled to publish at/).waitFor();
  }
  await page.getByRole('link', { name: 'Scheduled' }).click();
  await page.getByRole('table', { name: 'Pending' }).waitFor();
  await screenshot(page, 'scheduled');

  // Wait for the server to run both, then look again.
  for (;;) {
    const pending = (await api(server, '{ schedules { id } }', {}, token)).data.schedules;
    if (pending.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal((await byTitle(server, token, 'ready-peel')).status, 'PUBLISHED');
  assert.equal((await byTitle(server, token, 'unready-peel')).status, 'DRAFT');
  await revisit(page, '#/scheduled');
  const ran = page.getByRole('table', { name: 'Ran or cancelled' });
  await ran.waitFor();
  const row = (title) => ran.locator('tr').filter({ has: page.getByRole('link', { name: title, exact: true }) });
  assert.match(await row('Unready Peel').textContent(), /failed.*has not been approved/);
  assert.match(await row('Ready Peel').textContent(), /done/);
  await screenshot(page, 'scheduled-ran');
  // The refused topic's editor says so too, until the topic changes.
  await page.goto(`/admin/#/topics/${unready}`);
  await page.getByRole('heading', { name: 'Unready Peel', exact: true }).waitFor();
  await page.getByRole('note').getByText(/The scheduled publication at .* did not run: the topic unready-peel has not been approved/).waitFor();
  assert.deepEqual(page.problems, []);
}));
