// Navigation between screens, shared by the screens and the router.

let reshow = () => Promise.resolve();

/** The router registers how to show the current address again. */
export function onReshow(fn) {
  reshow = fn;
}

/** Goes to `hash` (e.g. `#/topics/3`); shows it again when it is the current address. */
export function go(hash) {
  if (location.hash === hash) return reshow();
  location.hash = hash;
  return Promise.resolve();
}
