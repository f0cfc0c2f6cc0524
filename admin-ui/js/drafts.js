// Unsaved work kept in this browser, so that a reload, a crash, a closed tab or a session
// that ended can give it back. Only the form's content is kept (localStorage), never a token;
// each entry is the user's and the document's own.

const PREFIX = 'dermis.unsaved.';

/** The key of `userId`'s unsaved work on document `id` (or a new one) of `route`. */
export function draftKey(userId, route, id) {
  return `${PREFIX}${userId}.${route}.${id ?? 'new'}`;
}

/** Keeps `entry` ({at, version, state}) under `key`. */
export function keep(key, entry) {
  try {
    localStorage.setItem(key, JSON.stringify(entry));
  } catch {
    // Storage full or switched off: the work is still in the form.
  }
}

/** The entry under `key`, or null. */
export function kept(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

/** Forgets the entry under `key`. */
export function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing kept.
  }
}
