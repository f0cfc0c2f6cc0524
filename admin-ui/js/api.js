// The GraphQL client: the admin UI uses nothing but the public API.
//
// The session (access and refresh token) lives in this module's memory only, never in
// localStorage or a cookie a script could read back later: a reload signs the editor out.
// Unsaved work is kept apart from it (editor.js keeps the form's content, never a token), and
// a session that ends under a request asks the editor to sign in again (`onSessionEnd`)
// before the request is sent again.

const AUTH_FIELDS = 'accessToken accessTokenExpiresAt refreshToken user { id email displayName role }';

let session = null;
let refreshing = null;
const sessionListeners = new Set();
const outageListeners = new Set();

/** The code of an answer given while the server cannot reach its database. */
const OUTAGE = 'DATABASE_UNAVAILABLE';

/** An error answer of the API, with its first error's code, field and extensions. */
export class ApiError extends Error {
  constructor(errors, data = null) {
    super(errors[0]?.message || 'The request failed');
    this.errors = errors;
    this.data = data;
    this.extensions = errors[0]?.extensions || {};
    this.code = this.extensions.code || 'UNKNOWN';
    this.field = this.extensions.field || null;
  }
}

/** The signed-in user, or null. */
export function currentUser() {
  return session?.user || null;
}

/** Calls `listener(user)` whenever the session starts or ends. */
export function onSession(listener) {
  sessionListeners.add(listener);
}

/**
 * Calls `listener(true)` when a request meets a database outage (it is retried until it
 * goes through) and `listener(false)` once a request goes through again.
 */
export function onOutage(listener) {
  outageListeners.add(listener);
}

let inOutage = false;
function setOutage(now) {
  if (now === inOutage) return;
  inOutage = now;
  for (const listener of outageListeners) listener(now);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function setSession(next) {
  session = next;
  for (const listener of sessionListeners) listener(currentUser());
}

async function post(query, variables, token) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError([{ message: 'The server cannot be reached. Check the connection and try again.', extensions: { code: 'NETWORK' } }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ message: `The server answered ${response.status} without a GraphQL body.`, extensions: { code: 'NETWORK' } }]);
  }
  return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
}

/** Exchanges the refresh token for a new session; one exchange at a time. */
async function refresh() {
  if (!session) return false;
  refreshing ||= (async () => {
    const { body } = await post(
      `mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { ${AUTH_FIELDS} } }`,
      { t: session.refreshToken },
    );
    if (body.data?.refreshSession) {
      setSession(body.data.refreshSession);
      return true;
    }
    // The database is out: the session is not over, only not renewable yet.
    if (body.errors?.[0]?.extensions?.code === OUTAGE) throw new ApiError(body.errors);
    // The session is over (expired, ended by a password change or a sign-out elsewhere);
    // the caller decides whether to ask the editor to sign in again first.
    return false;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

let signingInAgain = null;
let signInAgainHandler = null;

/**
 * Registers who is asked when the session ends under a request (its refresh token expired,
 * or the password was changed elsewhere): `handler(user)` resolves true once the same user
 * has signed in again (the request is then sent again), false to end the session. One ask
 * at a time, whatever the number of requests waiting.
 */
export function onSessionEnd(handler) {
  signInAgainHandler = handler;
}

async function signInAgain(user) {
  if (!signInAgainHandler) return false;
  signingInAgain ||= Promise.resolve(signInAgainHandler(user))
    .then((done) => Boolean(done) && currentUser()?.id === user.id)
    .finally(() => { signingInAgain = null; });
  return signingInAgain;
}

/**
 * Runs a GraphQL operation as the signed-in user and returns its `data`; throws ApiError.
 * An access token about to expire is renewed first, and one the server refuses (expired,
 * revoked) is renewed once and the operation retried, so a save goes through silently.
 * While the server cannot reach its database the operation is retried (after the server's
 * `Retry-After`) until it goes through or fails otherwise: the form, and the work in it,
 * stay as they are meanwhile, and the session is kept.
 */
export async function gql(query, variables = {}, { anonymous = false } = {}) {
  for (;;) {
    try {
      const data = await (anonymous ? withoutSession(query, variables) : once(query, variables));
      setOutage(false);
      return data;
    } catch (error) {
      if (error.code !== OUTAGE) {
        setOutage(false);
        throw error;
      }
      setOutage(true);
      const seconds = Number(error.retryAfter) || 2;
      await sleep(Math.min(Math.max(seconds, 1), 10) * 1000);
    }
  }
}

/** Sends an operation that needs no session (signing in): no token, nothing renewed. */
async function withoutSession(query, variables) {
  const { body, retryAfter } = await post(query, variables, null);
  if (body.errors?.length) {
    const error = new ApiError(body.errors, body.data);
    error.retryAfter = retryAfter;
    throw error;
  }
  return body.data;
}

async function once(query, variables) {
  if (session && Date.parse(session.accessTokenExpiresAt) - Date.now() < 20_000) await refresh();
  let { status, body, retryAfter } = await post(query, variables, session?.accessToken);
  if (status === 401 && session) {
    const user = session.user;
    if ((await refresh()) || (await signInAgain(user))) {
      ({ status, body, retryAfter } = await post(query, variables, session.accessToken));
    }
  }
  if (status === 401) setSession(null);
  if (body.errors?.length) {
    const error = new ApiError(body.errors, body.data);
    error.retryAfter = retryAfter;
    throw error;
  }
  return body.data;
}

/**
 * Sends `file` as the variable at `path` (e.g. `variables.input.file`) of an operation, as a
 * GraphQL multipart request; `onProgress(fraction)` follows the bytes sent. Returns `data`;
 * throws ApiError. An expired session is renewed (or signed in again) once and the file sent
 * again, as `gql` does.
 */
export async function upload(query, variables, path, file, onProgress) {
  if (session && Date.parse(session.accessTokenExpiresAt) - Date.now() < 20_000) await refresh();
  let { status, body } = await sendFile(query, variables, path, file, session?.accessToken, onProgress);
  if (status === 401 && session) {
    const user = session.user;
    if ((await refresh()) || (await signInAgain(user))) {
      ({ status, body } = await sendFile(query, variables, path, file, session.accessToken, onProgress));
    }
  }
  if (body.errors?.length) throw new ApiError(body.errors, body.data);
  return body.data;
}

/** One multipart request, through XMLHttpRequest: fetch cannot report upload progress. */
function sendFile(query, variables, path, file, token, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query, variables }));
    form.append('map', JSON.stringify({ 0: [path] }));
    form.append('0', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('accept', 'application/graphql-response+json, application/json');
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      let body;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { errors: [{ message: `The server answered ${xhr.status} without a GraphQL body.`, extensions: { code: 'NETWORK' } }] };
      }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener('error', () => reject(new ApiError([{ message: 'The server cannot be reached. Check the connection and try again.', extensions: { code: 'NETWORK' } }])));
    xhr.send(form);
  });
}

/** Signs in; throws ApiError. */
export async function login(email, password) {
  const data = await gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { ${AUTH_FIELDS} } }`, { e: email, p: password }, { anonymous: true });
  setSession(data.login);
}

/** Creates the first admin with the setup code and signs in as them. */
export async function createFirstAdmin(input) {
  const data = await gql(`mutation($input: CreateFirstAdminInput!) { createFirstAdmin(input: $input) { ${AUTH_FIELDS} } }`, { input }, { anonymous: true });
  setSession(data.createFirstAdmin);
}

/** Changes the own password; the server ends every session and answers a new one. */
export async function changePassword(currentPassword, newPassword) {
  const data = await gql(`mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ${AUTH_FIELDS} } }`, { input: { currentPassword, newPassword } });
  setSession(data.changePassword);
}

/** Ends the session on the server and here. */
export async function logout() {
  const ending = session;
  setSession(null);
  if (ending) {
    try {
      await post('mutation($t: String!) { logout(input: { refreshToken: $t }) { signedOut } }', { t: ending.refreshToken }, ending.accessToken);
    } catch {
      // Signed out here either way; the server's session expires on its own.
    }
  }
}
