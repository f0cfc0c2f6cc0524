// The admin UI's entry: boot (setup or login), the header, and hash routing.

import { h, replace, append } from './dom.js';
import { gql, currentUser, onSession, onSessionEnd, onOutage, logout } from './api.js';
import { clearAlert, guardUnsaved, hasUnsaved, mayLeave, alertError } from './ui.js';
import { onReshow } from './nav.js';
import { setupScreen, loginScreen, signInAgainDialog } from './screens/auth.js';
import { dashboardScreen } from './screens/dashboard.js';
import { listScreen } from './screens/list.js';
import { topicScreen } from './screens/topic.js';
import { namedScreen } from './screens/named.js';
import { historyScreen } from './screens/history.js';
import { usersScreen } from './screens/users.js';
import { tokensScreen } from './screens/tokens.js';
import { webhooksScreen } from './screens/webhooks.js';
import { scheduledScreen } from './screens/scheduled.js';
import { mediaScreen } from './screens/media.js';
import { accountScreen } from './screens/account.js';
import { KINDS } from './kinds.js';

const main = document.getElementById('main');
let current = location.hash;

/** The route table: a pattern over the hash path, and the screen it shows. */
const routes = [
  [/^\/$/, () => dashboardScreen],
  [/^\/(topics|conditions|side-effects)$/, (m) => (el, q) => listScreen(el, KINDS[m[1]], q)],
  [/^\/topics\/(new|[^/]+)$/, (m) => (el) => topicScreen(el, m[1] === 'new' ? null : m[1])],
  [/^\/(conditions|side-effects)\/(new|[^/]+)$/, (m) => (el) => namedScreen(el, KINDS[m[1]], m[2] === 'new' ? null : m[2])],
  [/^\/(topics|conditions|side-effects)\/([^/]+)\/history$/, (m) => (el) => historyScreen(el, KINDS[m[1]], m[2])],
  [/^\/users$/, () => usersScreen],
  [/^\/tokens$/, () => tokensScreen],
  [/^\/webhooks$/, () => webhooksScreen],
  [/^\/scheduled$/, () => scheduledScreen],
  [/^\/media$/, () => mediaScreen],
  [/^\/account$/, () => accountScreen],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

let renders = 0;

/**
 * Shows the screen of the current address. Each screen renders into a fresh view that
 * replaces the page only if no later navigation started meanwhile, so a slow screen never
 * overwrites a newer one.
 */
async function show() {
  const token = ++renders;
  clearAlert();
  guardUnsaved(null);
  const { path, query } = parseHash();
  const view = h('div', { class: 'view' });
  const commit = () => {
    if (token !== renders) return false;
    replace(main, view);
    focusMain();
    return true;
  };
  if (!currentUser()) {
    const { setupStatus } = await gql('{ setupStatus { needsSetup } }');
    const screen = setupStatus.needsSetup ? setupScreen : loginScreen;
    await screen(view, () => { current = location.hash; show(); });
    commit();
    return;
  }
  const route = routes.find(([pattern]) => pattern.test(path));
  if (!route) {
    append(view, [h('h1', {}, 'Not found'), h('p', {}, 'There is no such screen. ', h('a', { href: '#/' }, 'Go to the dashboard'))]);
    commit();
    return;
  }
  try {
    await route[1](path.match(route[0]))(view, query);
  } catch (error) {
    replace(view, h('h1', {}, 'Something went wrong'), h('p', {}, error.message));
  }
  if (commit()) markNav(path);
}

function focusMain() {
  const heading = main.querySelector('h1');
  (heading || main).setAttribute('tabindex', '-1');
  (heading || main).focus({ preventScroll: false });
}

function markNav(path) {
  for (const link of document.querySelectorAll('#nav a')) {
    const target = link.getAttribute('href').slice(1);
    const active = target === '/' ? path === '/' : path.startsWith(target);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderHeader(user) {
  const top = document.getElementById('top');
  top.hidden = !user;
  if (!user) {
    // Nothing of the previous user stays in the page.
    replace(document.getElementById('nav'));
    replace(document.getElementById('who'));
    return;
  }
  const links = [['#/', 'Dashboard'], ['#/topics', 'Topics'], ['#/conditions', 'Conditions'], ['#/side-effects', 'Side effects'], ['#/media', 'Media'], ['#/scheduled', 'Scheduled']];
  if (user.role === 'ADMIN') links.push(['#/users', 'Users'], ['#/tokens', 'API tokens'], ['#/webhooks', 'Webhooks']);
  replace(document.getElementById('nav'), links.map(([href, label]) => h('li', {}, h('a', { href }, label))));
  replace(document.getElementById('who'),
    h('a', { href: '#/account', title: 'Your account' }, user.displayName),
    h('button', { type: 'button', class: 'link', onclick: async () => { if (await mayLeave()) { guardUnsaved(null); await logout(); } } }, 'Sign out'));
}

// A session that ends under a request asks for the password over the screen it is on.
onSessionEnd(signInAgainDialog);

onOutage((out) => {
  document.getElementById('outage').hidden = !out;
});

onSession((user) => {
  renderHeader(user);
  if (!user) {
    guardUnsaved(null);
    show();
  }
});

window.addEventListener('hashchange', async () => {
  if (location.hash === current) return;
  const target = location.hash;
  // Leaving a form with unsaved changes asks first; the address goes back meanwhile.
  if (!(await mayLeaveTo(target))) return;
  current = target;
  show();
});

async function mayLeaveTo(target) {
  if (!hasUnsaved()) return true;
  history.replaceState(null, '', current || '#/');
  if (!(await mayLeave())) return false;
  guardUnsaved(null);
  history.replaceState(null, '', target);
  return true;
}

onReshow(() => {
  current = location.hash;
  return show();
});

window.addEventListener('unhandledrejection', (event) => {
  alertError(event.reason?.message || 'Something went wrong.');
});

show().catch((error) => alertError(error.message));
