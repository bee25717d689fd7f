// The chat API over fetch: the publishable key travels as ?key= so simple GETs need no preflight.
import { readEvents } from "./stream.js";

/** An Error carrying the API's {code, message, fix}. */
export class ApiError extends Error {
  constructor(code, message, fix) {
    super(message);
    this.code = code;
    this.fix = fix;
  }
}

async function failure(response) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not JSON: a proxy's error page, for instance
  }
  return new ApiError(error.code || `http_${response.status}`, error.message || response.statusText, error.fix);
}

/** A client bound to one API base URL and publishable key. */
/** The body of a chat request: the message, the session and what the shopper's page is showing, if anything. */
export function chatRequest(message, session, { productId, cart } = {}) {
  const body = { message, session_id: session };
  if (productId || (cart && cart.length)) {
    body.page_context = { product_id: productId ? String(productId) : null, cart: (cart || []).map(String) };
  }
  return body;
}

export function createClient(base, key) {
  const root = String(base || "").replace(/\/+$/, "");
  const url = (path) => `${root}/api/v1/chat${path}?key=${encodeURIComponent(key)}`;
  const call = async (method, path, body, signal) => {
    let response;
    try {
      response = await fetch(url(path), {
        method,
        signal,
        credentials: "omit",
        headers: body ? { "Content-Type": "application/json" } : undefined,
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError("network", String((err && err.message) || err));
    }
    if (!response.ok) throw await failure(response);
    return response;
  };
  const seg = (id) => `/${encodeURIComponent(id)}`;
  return {
    /** POST a message and stream its events to onEvent(name, data); resolves with the session id header. */
    async stream(body, onEvent, signal) {
      const response = await call("POST", "/stream", body, signal);
      const session = response.headers.get("X-Storebot-Session");
      await readEvents(response.body, onEvent);
      return session;
    },
    history: async (id, signal) => (await call("GET", `${seg(id)}/history`, null, signal)).json(),
    forget: (id) => call("DELETE", seg(id)),
    feedback: (id, rating, turn) => call("POST", `${seg(id)}/feedback`, { rating, comment: "", turn }),
  };
}
