// The shopper's session id, remembered per store in localStorage (when the browser allows it).

const key = (store) => `storebot:session:${store}`;

/** A fresh id the API accepts: 32 hex characters. */
export function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function loadSession(store) {
  try {
    const id = localStorage.getItem(key(store));
    return id && /^[A-Za-z0-9_-]{8,64}$/.test(id) ? id : null;
  } catch {
    return null; // storage blocked (privacy mode, sandboxed frame): the session lasts the page
  }
}

export function saveSession(store, id) {
  try {
    localStorage.setItem(key(store), id);
  } catch {
    // see loadSession
  }
}
