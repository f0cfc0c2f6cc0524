// An editor's work is never lost: a session that ends under a save asks for the password
// over the form and then saves; a reload (or a closed tab) offers the unsaved work back; a
// double click saves once; Ctrl+S saves and Enter in a one-line field does not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, newPage, api, adminToken, createUser, signIn, screenshot, PASSWORD } from './harness.mjs';

const topic = async (server) => (await api(server, '{ topic(slug: "microneedling") { id version summary title } }')).data.topic;

test('the session ends in another tab before Save: the password is asked over the form, and the save lands', () => withServer('session-end', {}, async (server, browser) => {
  const token = await adminToken(server);
  const { id } = await topic(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  const typed = 'Typed before the password changed elsewhere.';
  await page.getByLabel('Summary', { exact: true }).fill(typed);

  // "Another tab" changes the password: every session of the user ends.
  const newPassword = `${PASSWORD} renewed`;
  const changed = await api(server, 'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken } }',
    { i: { currentPassword: PASSWORD, newPassword } }, token);
  assert.ok(changed.data, JSON.stringify(changed));

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const again = page.getByRole('dialog', { name: 'Your session has ended' });
  await again.waitFor();
  await screenshot(page, 'sign-in-again');
  // The form is still there behind the dialog, with the work in it; nothing is saved yet.
  assert.equal(await page.getByLabel('Summary', { exact: true }).inputValue(), typed);
  assert.equal((await topic(server)).version, 1);

  // A wrong password is said so in the dialog; the right one saves.
  await again.getByLabel('Password', { exact: true }).fill('not the password at all');
  await again.getByRole('button', { name: 'Sign in' }).click();
  await again.getByText('That password is not right.').waitFor();
  await again.getByLabel('Password', { exact: true }).fill(newPassword);
  await again.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Saved version 2.').waitFor();
  await again.waitFor({ state: 'detached' });
  assert.equal((await topic(server)).summary, typed);
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0, 'still on the editor, signed in');
  assert.deepEqual(page.problems, []);
}));

test('unsaved work survives a reload and a closed tab, and is offered back on the document', () => withServer('restore', {}, async (server, browser) => {
  const token = await adminToken(server);
  const { id } = await topic(server);
  const context = await browser.newContext({ baseURL: server.base, viewport: { width: 1280, height: 900 } });
  const first = await context.newPage();
  await signIn(first, 'admin@example.org');
  await first.goto(`/admin/#/topics/${id}`);
  const typed = 'Half-written when the tab was closed.';
  await first.getByLabel('Summary', { exact: true }).fill(typed);
  await first.getByLabel('Feature 1', { exact: true }).fill('A changed first feature');
  // The copy is written as the editor types (after a short pause), not only at unload.
  await first.waitForFunction(() => Object.keys(localStorage).some((k) => k.startsWith('dermis.unsaved.')));
  const kept = await first.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('dermis.unsaved.')).map(([, v]) => v).join());
  assert.ok(kept.includes(typed), 'the form content is kept');
  assert.ok(!/accessToken|refreshToken|eyJ/.test(kept), 'no token is kept');
  await first.close({ runBeforeUnload: false });

  // Meanwhile someone else saves the topic: restoring must not silently overwrite them.
  const other = await api(server, 'mutation($i: UpdateTopicInput!) { updateTopic(input: $i) { topic { version } } }',
    { i: { id, expectedVersion: 1, title: 'Microneedling (their title)' } }, token);
  assert.equal(other.data.updateTopic.topic.version, 2);

  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(error.message));
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  const offer = page.getByRole('region', { name: 'Unsaved changes' });
  await offer.waitFor();
  assert.match(await offer.textContent(), /made on version 1; it is now at version 2/);
  assert.ok(!kept.includes('their title'), 'the copy predates their save');
  await screenshot(page, 'restore-offer');
  await offer.getByRole('button', { name: 'Restore my changes' }).click();
  assert.equal(await page.getByLabel('Summary', { exact: true }).inputValue(), typed);
  assert.equal(await page.getByLabel('Feature 1', { exact: true }).inputValue(), 'A changed first feature');

  // Saving the restored work meets their save: merged from version 1, their title is kept.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/Merged your changes with version 2, saved meanwhile \(Title\)\. Saved version 3\./).waitFor();
  const saved = await topic(server);
  assert.deepEqual([saved.summary, saved.title], [typed, 'Microneedling (their title)']);

  // Saved: nothing is offered any more.
  await page.reload();
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Summary', { exact: true }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Unsaved changes' }).count(), 0);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('dermis.unsaved.')).length), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
}));

test('a double click saves once; Ctrl+S saves; Enter in a one-line field does not', () => withServer('double-click', {}, async (server, browser) => {
  await adminToken(server);
  const { id } = await topic(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Summary', { exact: true }).fill('Saved by a double click, once.');
  await page.getByRole('button', { name: 'Save', exact: true }).dblclick();
  await page.getByText('Saved version 2.').waitFor();
  // Give a second save every chance to land (or to fail as a conflict) before counting.
  await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0, 'no conflict dialog');
  const history = await api(server, `{ revisions(documentType: TOPIC, documentId: "${id}") { edges { node { version } } } }`,
    {}, (await api(server, 'mutation { login(input: { email: "admin@example.org", password: "correct horse battery staple" }) { accessToken } }')).data.login.accessToken);
  assert.deepEqual(history.data.revisions.edges.map((e) => e.node.version).sort(), [1, 2]);

  // While a save runs the buttons say so and are disabled.
  await page.getByLabel('Summary', { exact: true }).fill('Saved with the keyboard.');
  await page.route('**/graphql', async (route) => { await new Promise((r) => { setTimeout(r, 300); }); await route.continue(); });
  await page.keyboard.press('Control+s');
  const busy = page.getByRole('button', { name: 'Saving…' });
  await busy.waitFor();
  assert.equal(await busy.isDisabled(), true);
  await page.getByText('Saved version 3.').waitFor();
  await page.unroute('**/graphql');

  // Enter in the title does not save the document: the save that follows is the only one
  // (had Enter saved, this would be version 5).
  await page.getByLabel('Title', { exact: true }).fill('Enter must not save this');
  await page.getByLabel('Title', { exact: true }).press('Enter');
  await page.getByLabel('Summary', { exact: true }).fill('Saved after Enter, by Ctrl+S.');
  await page.keyboard.press('Control+s');
  await page.getByText('Saved version 4.').waitFor();
  assert.deepEqual(await topic(server), { id, version: 4, summary: 'Saved after Enter, by Ctrl+S.', title: 'Enter must not save this' });
  assert.deepEqual(page.problems, []);
}));

test('both editors change the same field: only that is asked, side by side, and the rest merges', () => withServer('three-way', {}, async (server, browser) => {
  const token = await adminToken(server);
  const { id } = await topic(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Summary', { exact: true }).fill('My summary.');
  await page.getByLabel('Feature 1', { exact: true }).fill('My first feature');

  // Meanwhile a colleague changes the summary too, and the title and a condition's note.
  const now = (await api(server, `{ topic(slug: "microneedling") { conditions { note node { id } } sideEffects { frequency severity duration note node { id } } } }`)).data.topic;
  const conditions = now.conditions.map((c, i) => ({ conditionId: c.node.id, note: i === 1 ? 'Their note on the second condition' : c.note }));
  const theirs = await api(server, 'mutation($i: UpdateTopicInput!) { updateTopic(input: $i) { topic { version } } }',
    { i: { id, expectedVersion: 1, summary: 'Their summary.', title: 'Microneedling (their title)', conditions } }, token);
  assert.equal(theirs.data.updateTopic.topic.version, 2, JSON.stringify(theirs));

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Someone else saved this meanwhile' });
  await dialog.waitFor();
  const text = await dialog.textContent();
  assert.match(text, /Merged by themselves: Title, Features, Conditions\./);
  const summary = dialog.getByRole('group', { name: 'Summary' });
  assert.match(await summary.textContent(), /Before \(version 1\)[\s\S]*Theirs \(version 2\)Their summary\.YoursMy summary\./);
  assert.equal(await dialog.getByRole('group').count(), 1, 'only the field both changed is asked');
  await screenshot(page, 'three-way');

  // Keep theirs for the summary: every other change of both sides lands.
  await summary.getByLabel('Use theirs').check();
  await dialog.getByRole('button', { name: 'Save with these choices' }).click();
  await page.getByText('Saved version 3.').waitFor();
  const stored = (await api(server, '{ topic(slug: "microneedling") { title summary features conditions { note } version } }')).data.topic;
  assert.equal(stored.summary, 'Their summary.');
  assert.equal(stored.title, 'Microneedling (their title)');
  assert.equal(stored.features[0], 'My first feature');
  assert.equal(stored.conditions[1].note, 'Their note on the second condition');
  assert.equal(stored.version, 3);
  assert.deepEqual(page.problems, []);
}));

test('small things: an unknown screen, a link added twice, the icon, a remote image in the preview', () => withServer('small-things', {}, async (server, browser) => {
  await adminToken(server);
  const { id } = await topic(server);
  const page = await newPage(browser, server);
  const notFound = [];
  page.on('response', (response) => { if (response.status() === 404) notFound.push(response.url()); });
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (event) => window.violations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  await signIn(page, 'admin@example.org');

  await page.goto('/admin/#/no/such/screen');
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Go to the dashboard' }).waitFor();

  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Link a condition', { exact: true }).fill('Acne');
  await page.getByRole('button', { name: 'Add condition' }).click();
  await page.getByRole('status').getByText('Acne is already linked.').waitFor();

  // The preview shows a remote image: the policy lets it load (this machine has no internet,
  // so it may not arrive, but nothing blocks it).
  const body = page.getByLabel('Body (Markdown)', { exact: true });
  await body.fill('![A diagram](https://images.example.org/diagram.png)');
  await page.locator('.preview img[src="https://images.example.org/diagram.png"]').waitFor({ state: 'attached' });
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(notFound, [], 'no 404, the icon included');
  assert.deepEqual(page.problems, []);
}));

test('Open preview shows the draft in the frontend\'s draft mode, through a token for that document only', async () => {
  // A frontend's preview route: reads the draft with the token and shows it.
  const { createServer } = await import('node:http');
  let dermis = null;
  const frontend = createServer(async (request, response) => {
    const url = new URL(request.url, 'http://frontend');
    const answer = await api(dermis, 'query($slug: String!) { topic(slug: $slug, preview: true) { title status } }', { slug: url.searchParams.get('slug') }, url.searchParams.get('token'));
    const topic = answer.data?.topic;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Preview</title><h1>${topic ? `${topic.title} (${topic.status})` : 'Not found'}</h1>`);
  });
  await new Promise((resolve) => { frontend.listen(0, '127.0.0.1', resolve); });
  const template = `http://127.0.0.1:${frontend.address().port}/preview?slug={slug}&token={token}`;
  try {
    await withServer('preview', { DERMIS_PREVIEW_URL: template }, async (server, browser) => {
      dermis = server;
      const token = await adminToken(server);
      const created = await api(server, 'mutation { createTopic(input: { title: "Chemical peels (draft)", slug: "chemical-peels" }) { topic { id } } }', {}, token);
      const { id } = created.data.createTopic.topic;
      const page = await newPage(browser, server);
      await signIn(page, 'admin@example.org');
      await page.goto(`/admin/#/topics/${id}`);
      const opened = page.context().waitForEvent('page');
      await page.getByRole('button', { name: 'Open preview' }).click();
      const preview = await opened;
      await preview.getByRole('heading', { name: 'Chemical peels (draft) (DRAFT)' }).waitFor();
      assert.match(preview.url(), /slug=chemical-peels&token=dmp_/);
      await page.getByRole('status').getByText(/Opened the preview; its link works until/).waitFor();
      await screenshot(preview, 'preview-frontend');
      assert.deepEqual(page.problems, []);
    });
  } finally {
    frontend.close();
  }
});

test('unpublishing a version someone replaced meanwhile shows theirs in place, without a reload', () => withServer('stale-action', {}, async (server, browser) => {
  const token = await adminToken(server);
  const { id } = await topic(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByLabel('Title', { exact: true }).waitFor();
  const saved = await api(server, 'mutation($i: UpdateTopicInput!) { updateTopic(input: $i) { topic { version } } }',
    { i: { id, expectedVersion: 1, title: 'Microneedling (saved elsewhere)' } }, token);
  assert.equal(saved.data.updateTopic.topic.version, 2);

  await page.getByRole('button', { name: 'Unpublish' }).click();
  await page.getByRole('alert').getByText(/Someone saved this topic meanwhile \(now version 2, shown here\)\. Nothing was changed: unpublish it again/).waitFor();
  assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Microneedling (saved elsewhere)');
  assert.equal((await topic(server)).version, 2, 'still published, unchanged');
  // On what they now see, the editor unpublishes for real.
  await page.getByRole('button', { name: 'Unpublish' }).click();
  await page.getByText('The topic is now draft.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0);
  assert.deepEqual(page.problems, []);
}));

test('resetting a password: the field has the focus, a short password is said in the dialog, which stays', () => withServer('reset-password', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve', 'EDITOR');
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto('/admin/#/users');
  await page.getByRole('button', { name: 'Reset password of eve@example.org' }).click();
  const dialog = page.getByRole('dialog', { name: 'New password for eve@example.org' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'password', 'the field, not Cancel, has the focus');
  await page.keyboard.type('short');
  await page.keyboard.press('Enter');
  await dialog.getByText(/at least 12/i).first().waitFor();
  assert.equal(await dialog.isVisible(), true, 'the dialog stays');
  await dialog.getByLabel('New password').fill(`${PASSWORD} for Eve`);
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('status').getByText('Set a new password for eve@example.org.').waitFor();
  const login = await api(server, 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email: 'eve@example.org', password: `${PASSWORD} for Eve` } });
  assert.ok(login.data?.login.accessToken, JSON.stringify(login));
  assert.deepEqual(page.problems, []);
}));

test('keyboard: list filters wait for Enter and keep focus; focused fields clear the sticky toolbar', () => withServer('keyboard-lists', {}, async (server, browser) => {
  await adminToken(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto('/admin/#/conditions');
  await page.getByRole('heading', { name: 'Conditions', exact: true }).waitFor();
  const status = page.getByLabel('Status', { exact: true });
  await status.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  // Moving through the options applies nothing and keeps the focus where it is.
  assert.equal(new URL(page.url()).hash, '#/conditions');
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'status');
  await page.keyboard.press('Enter');
  await page.waitForURL(/status=/);
  // The list is drawn anew (the first status, draft, has none), and the focus comes back
  // to the filter.
  await page.getByText('Nothing matches.').waitFor();
  await page.waitForFunction(() => document.activeElement?.name === 'status');

  // A field near the bottom, focused from the keyboard, is not under the sticky toolbar.
  const { id } = (await api(server, '{ topic(slug: "microneedling") { id } }')).data.topic;
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByRole('heading', { name: 'Microneedling', exact: true }).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  const field = page.getByLabel('Note on Redness', { exact: true });
  await field.focus();
  const [fieldBox, toolbarBox] = await Promise.all([field.boundingBox(), page.locator('.toolbar').boundingBox()]);
  assert.ok(fieldBox.y + fieldBox.height <= toolbarBox.y, `field bottom ${fieldBox.y + fieldBox.height} over toolbar top ${toolbarBox.y}`);

  // An outcome that is not a success is not shown in success green.
  await page.getByLabel('Link a side effect', { exact: true }).fill('Redness');
  await page.getByRole('button', { name: 'Add side effect' }).click();
  const toast = page.getByRole('status');
  await toast.getByText('Redness is already linked.').waitFor();
  assert.equal(await toast.getAttribute('data-tone'), 'note');
  assert.deepEqual(page.problems, []);
}));

test('a bad reference address is marked on its own input, and the hint is not success green', () => withServer('reference-error', {}, async (server, browser) => {
  await adminToken(server);
  const { id } = (await api(server, '{ topic(slug: "microneedling") { id } }')).data.topic;
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByRole('heading', { name: 'Microneedling', exact: true }).waitFor();
  await page.getByLabel('Reference 1 address', { exact: true }).fill('ftp://example.org/paper');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const address = page.getByLabel('Reference 1 address', { exact: true });
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Reference 1 address');
  assert.equal(await address.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Reference 1 title', { exact: true }).getAttribute('aria-invalid'), null);
  const toast = page.getByRole('status');
  await toast.getByText('Please correct the marked field.').waitFor();
  assert.equal(await toast.getAttribute('data-tone'), 'note');
  assert.deepEqual(page.problems, []);
}));

test('the users screen lines its rows up: every cell of a row starts on one line', () => withServer('users-rows', {}, async (server, browser) => {
  const token = await adminToken(server);
  await createUser(server, token, 'eve@example.org', 'Eve Editor', 'EDITOR');
  await createUser(server, token, 'dr.lee@example.org', 'Dr. Lee', 'REVIEWER');
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto('/admin/#/users');
  await page.getByRole('cell', { name: 'reviewer' }).waitFor();
  const rows = await page.evaluate(() => [...document.querySelectorAll('table.list tbody tr')].map((tr) => {
    const cells = [...tr.children].map((td) => td.getBoundingClientRect());
    return { tops: cells.map((r) => Math.round(r.top)), bottoms: cells.map((r) => Math.round(r.bottom)), display: getComputedStyle(tr.lastElementChild).display };
  }));
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(new Set(row.tops).size, 1, `cells start at one height: ${row.tops}`);
    assert.equal(new Set(row.bottoms).size, 1, `and end at one: ${row.bottoms}`);
    assert.equal(row.display, 'table-cell');
  }
  await screenshot(page, 'users');
  assert.deepEqual(page.problems, []);
}));

test('a condition that does not exist yet is created in a side panel and linked', () => withServer('inline-create', {}, async (server, browser) => {
  const token = await adminToken(server);
  const made = await api(server, 'mutation { createTopic(input: { title: "Chemical Peel", conditions: [{ conditionId: "6" }] }) { topic { id conditions { node { name } } } } }', {}, token);
  const { id } = made.data.createTopic.topic;
  const already = made.data.createTopic.topic.conditions[0].node.name;
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.goto(`/admin/#/topics/${id}`);
  await page.getByRole('heading', { name: 'Chemical Peel', exact: true }).waitFor();
  const search = page.getByLabel('Link a condition', { exact: true });
  await search.fill('Melasma');
  await search.press('Enter');
  const panel = page.getByRole('dialog', { name: 'New condition' });
  await panel.waitFor();
  assert.equal(await panel.getByLabel('Name', { exact: true }).inputValue(), 'Melasma');
  await panel.getByLabel('Description (Markdown)', { exact: true }).fill('Brown *patches* on the face.');
  await screenshot(page, 'inline-create');
  await panel.getByRole('button', { name: 'Create and link' }).click();
  await panel.waitFor({ state: 'detached' });
  await page.getByText('Created the draft condition “Melasma” and linked it.', { exact: false }).waitFor();
  await page.getByLabel('Note on Melasma', { exact: true }).waitFor();
  // Created as a draft; the topic is linked to it once saved, and the link is offered for
  // publishing with the topic.
  const created = (await api(server, '{ condition(slug: "melasma") { name } }')).data.condition;
  assert.equal(created, null, 'a draft is not public');
  const drafted = (await api(server, 'query { conditions(first: 1, filter: { status: [DRAFT], search: "melasma" }) { edges { node { name descriptionHtml } } } }', {}, token)).data.conditions.edges;
  assert.deepEqual(drafted.map((e) => e.node), [{ name: 'Melasma', descriptionHtml: '<p>Brown <em>patches</em> on the face.</p>\n' }]);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved version 2.').waitFor();
  // A name that exists is found whatever its case (here: already linked); no panel.
  await search.fill(already.toUpperCase());
  await page.getByRole('button', { name: 'Add condition' }).click();
  await page.getByRole('status').getByText(`${already} is already linked.`).waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.deepEqual(page.problems, []);
}));

test('signing out leaves no name or navigation behind, and an error does not outlive its screen', () => withServer('sign-out', {}, async (server, browser) => {
  await adminToken(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  // An error on one screen...
  await page.goto('/admin/#/topics/new');
  await page.getByRole('heading', { name: 'New topic', exact: true }).waitFor();
  await page.getByLabel('Slug', { exact: true }).fill('-bad-');
  await page.getByLabel('Title', { exact: true }).fill('Bad slug');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.locator('[aria-invalid="true"]').first().waitFor();
  // ... is gone on the next (after leaving the unsaved form on purpose).
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('button', { name: 'Leave and discard' }).click();
  await page.getByRole('heading', { name: /^Hello,/ }).waitFor();
  assert.equal(await page.locator('#alert').textContent(), '');
  assert.equal(await page.locator('.field-error:not([hidden])').count(), 0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Dermis' }).waitFor();
  assert.equal(await page.getByText('Ada Admin').count(), 0, 'no name of the previous user');
  assert.equal(await page.getByRole('link', { name: 'Topics' }).count(), 0, 'no navigation');
  assert.deepEqual(page.problems, []);
}));
