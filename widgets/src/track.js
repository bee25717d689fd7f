// Shopper events for recommendations: Storebot.track(type, {productId, variantId, orderId, quantity}).
// Events share the chat's session id, are batched per tick, and survive a page unload (fetch keepalive).
import { loadSession, newSessionId, saveSession } from "./session.js";

const TYPES = ["view", "add_to_cart", "purchase"];
const MAX_BATCH = 100;

/** A track(type, data) function posting to {api}/api/v1/events; getElement() returns the chat element, if mounted. */
export function createTracker(settings, getElement) {
  const queue = [];
  let scheduled = null;

  function session() {
    const element = getElement();
    let id = (element && element.session) || loadSession(settings.store);
    if (!id) {
      id = newSessionId();
      saveSession(settings.store, id);
    }
    if (element && !element.session) element.session = id; // the chat continues the same session
    return id;
  }

  async function flush() {
    scheduled = null;
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length) schedule();
    const root = String(settings.api || "").replace(/\/+$/, "");
    const response = await fetch(`${root}/api/v1/events?key=${encodeURIComponent(settings.store)}`, {
      method: "POST",
      credentials: "omit",
      keepalive: true,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: batch.map((item) => item.event) }),
    });
    const result = response.ok ? await response.json() : { accepted: 0, rejected: [], status: response.status };
    for (const rejected of result.rejected || []) console.warn(`storebot: event not recorded: ${rejected.error}`);
    return result;
  }

  function schedule() {
    if (!scheduled) scheduled = new Promise((resolve) => setTimeout(resolve, 0)).then(flush);
    return scheduled;
  }

  return function track(type, data = {}) {
    if (!TYPES.includes(type)) {
      console.warn(`storebot: track() takes ${TYPES.join(", ")}, not ${type}`);
      return Promise.resolve({ accepted: 0, rejected: [] });
    }
    if (!settings.store || !data.productId) return Promise.resolve({ accepted: 0, rejected: [] });
    const event = { type, product_id: String(data.productId), session_id: session() };
    if (data.variantId) event.variant_id = String(data.variantId);
    if (data.orderId) event.order_id = String(data.orderId);
    if (data.quantity) event.quantity = Number(data.quantity);
    queue.push({ event });
    return schedule().catch((err) => {
      console.warn(`storebot: could not send events: ${(err && err.message) || err}`);
      return { accepted: 0, rejected: [] };
    });
  };
}
