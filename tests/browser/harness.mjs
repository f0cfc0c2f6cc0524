// Browser-test harness: a real `dermis serve` on a fresh SQLite database with the sample
// content, and Debian's chromium driven by playwright-core (no browser download).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.DERMIS_BIN || join(here, '..', '..', 'target', 'debug', 'dermis');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(here, 'artifacts');
export const PASSWORD = 'correct horse battery staple';

/** Starts `dermis serve` on a new SQLite database seeded with the sample content. */
export async function startServer(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dermis-browser-'));
  const url = `sqlite://${join(dir, 'dermis.db')}?mode=rwc`;
  const childEnv = { ...process.env, DERMIS_DATABASE_URL: url, DERMIS_LOG: 'info', ...env };
  execFileSync(BIN, ['seed'], { cwd: dir, env: childEnv, stdio: 'pipe' });
  const child = spawn(BIN, ['serve', '--bind', '127.0.0.1:0', '--workers', '2'], { cwd: dir, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dermis serve did not start:\n${logs}`)), 30_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      logs += chunk;
      const base = logs.match(/listening on (http:\/\/[0-9.:]+)/);
      const code = logs.match(/setup code ([A-Z0-9]+)/);
      if (base && code) {
        clearTimeout(timer);
        resolve({ base: base[1], setupCode: code[1] });
      }
    });
    child.on('exit', (status) => reject(new Error(`dermis serve exited (${status}):\n${logs}`)));
  });
  const { base, setupCode } = await ready;
  return {
    base,
    setupCode,
    dbFile: join(dir, 'dermis.db'),
    logs: () => logs,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 5000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Holds the SQLite write lock of `server`'s database from another process (as a backup or
 * an import would), until `release()`: the server's writes wait past their busy timeout
 * and fail as an outage; reads go on. `held` resolves once the lock is taken.
 */
export function holdWriteLock(server) {
  const script = [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1], isolation_level=None)',
    "db.execute('BEGIN IMMEDIATE')",
    "db.execute('UPDATE settings SET updated_at = updated_at')",
    "print('held', flush=True)",
    'sys.stdin.read()',
    "db.execute('ROLLBACK')",
  ].join('\n');
  const child = spawn('python3', ['-c', script, server.dbFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const held = new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { if (chunk.includes('held')) resolve(); });
    child.on('exit', (status) => reject(new Error(`the lock holder exited (${status})`)));
  });
  const released = new Promise((resolve) => { child.on('exit', resolve); });
  return {
    held,
    async release() {
      child.stdin.end();
      await released;
    },
  };
}

/** Calls the GraphQL API directly; returns the JSON body. */
export async function api(server, query, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return response.json();
}

/** Creates the first admin through the API; returns its access token. */
export async function adminToken(server) {
  const body = await api(server, `mutation($i: CreateFirstAdminInput!) { createFirstAdmin(input: $i) { accessToken } }`,
    { i: { setupCode: server.setupCode, email: 'admin@example.org', displayName: 'Ada Admin', password: PASSWORD } });
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data.createFirstAdmin.accessToken;
}

/** Creates a user as the admin. */
export async function createUser(server, token, email, displayName, role) {
  const body = await api(server, `mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }`,
    { i: { email, displayName, role, password: PASSWORD } }, token);
  if (!body.data) throw new Error(JSON.stringify(body));
}

/** A headless chromium. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A page that fails the test on any JavaScript error or unexpected dialog; `problems`
 * collects them.
 */
export async function newPage(browser, server) {
  const context = await browser.newContext({ baseURL: server.base, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  (server.pages ||= []).push(page);
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) page.problems.push(`console: ${message.text()}`); });
  page.on('dialog', (dialog) => { page.problems.push(`native dialog: ${dialog.message()}`); dialog.dismiss(); });
  return page;
}

/** Signs in through the login screen. */
export async function signIn(page, email) {
  await page.goto('/admin/');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /^Hello,/ }).waitFor();
}

/** Saves a screenshot of the page's last screen as an artifact. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Screenshots every page opened on `server` (as the artifact of a test that ended early). */
export async function screenshotAll(server, name) {
  for (const [index, page] of (server.pages || []).entries()) {
    try {
      await screenshot(page, `${name}-${index + 1}`);
    } catch {
      // A closed page has nothing to show.
    }
  }
}

/**
 * Controls without an accessible name on the page: inputs, selects and textareas need a
 * label or aria-label, buttons and links need text or aria-label.
 */
export function unnamedControls(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter((el) => {
      if (el.closest('[hidden]')) return false;
      const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (el.matches('button, a')) return !(named || el.textContent.trim());
      return !(named || (el.labels && el.labels.length));
    })
    .map((el) => el.outerHTML.slice(0, 120)));
}

/** Runs `body(server, browser)` on a fresh server and browser, then cleans up; a failing
 * test leaves screenshots of its pages. */
export async function withServer(name, env, body) {
  const server = await startServer(env);
  const browser = await launch();
  try {
    await body(server, browser);
  } catch (error) {
    await screenshotAll(server, `failed-${name}`);
    throw error;
  } finally {
    await browser.close();
    await server.stop();
  }
}

