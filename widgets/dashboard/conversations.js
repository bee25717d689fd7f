// Conversations: the store's chat sessions with search, each transcript with its cards, sources and feedback, the
// handoffs, and the queue of fine-tuning examples to approve or reject.
import { api, query } from "./api.js";
import { card, fill, h, note, table, when } from "./dom.js";
import { render as renderExamples } from "./examples.js";
import { sources } from "./sources.js";
import { guard } from "./ui.js";

export function render(panel) {
  const list = h("div", { id: "conversation-list" });
  const transcript = h("div", { id: "transcript", class: "transcript", tabindex: "-1", "aria-live": "polite" },
    note("Pick a conversation to read it."));
  const handoffs = h("div", { class: "block", id: "handoffs" });
  const examples = h("div", { class: "block", id: "examples" });
  const input = h("input", { id: "conversation-q", type: "search", placeholder: "e.g. rain jacket" });
  const state = { q: "", cursor: 0 };
  const form = h("form", { class: "inline", role: "search", onsubmit: (e) => {
    e.preventDefault();
    state.q = input.value.trim();
    state.cursor = 0;
    guard(list, "conversations", () => page(state, list, transcript, false));
  } }, h("label", { for: "conversation-q" }, "Search conversations"), input, h("button", { type: "submit" }, "Search"));
  fill(panel,
    h("h2", {}, "Conversations"),
    h("div", { class: "cols wide-right" },
      h("section", { "aria-labelledby": "conv-title" }, h("h3", { id: "conv-title" }, "Chat sessions"), form, list),
      h("section", { "aria-labelledby": "transcript-title" }, h("h3", { id: "transcript-title" }, "Transcript"), transcript)),
    h("section", { "aria-labelledby": "handoffs-title" }, h("h3", { id: "handoffs-title" }, "Handoff requests"), handoffs),
    h("section", { "aria-labelledby": "examples-title" },
      h("h3", { id: "examples-title" }, "Fine-tuning examples to review"), examples));
  guard(list, "conversations", () => page(state, list, transcript, false));
  guard(handoffs, "handoff requests", loadHandoffs);
  renderExamples(examples);
}

async function page(state, list, transcript, more) {
  const data = await api(`/api/v1/conversations${query({ q: state.q, limit: 20, cursor: state.cursor })}`);
  state.cursor = data.next_cursor;
  const items = data.items.map((c) => h("li", {},
    h("button", { type: "button", class: "conversation", dataset: { session: c.session_id },
      onclick: () => open(c.session_id, transcript) },
      h("span", { class: "title" }, c.first_question || "(no question)"),
      h("span", { class: "meta" }, `${when(c.updated_at)} · ${c.turns} turn${c.turns === 1 ? "" : "s"}`),
      c.match && c.match !== c.first_question ? h("span", { class: "meta" }, `…${c.match}`) : null)));
  const moreButton = data.next_cursor === null ? null : h("button", { type: "button", class: "secondary",
    onclick: async (e) => { e.target.disabled = true; await page(state, list, transcript, true); e.target.remove(); } },
    "Load more");
  if (more) {
    list.querySelector("ul.conversations").append(...items);
    if (moreButton) list.append(moreButton);
    items[0]?.querySelector("button").focus();
    return null;
  }
  if (!items.length) return note(state.q ? `No conversation mentions “${state.q}”.` : "No conversations yet.");
  return [h("ul", { class: "conversations", "aria-label": "Chat sessions, newest first" }, items), moreButton,
    data.truncated ? note(`Only the newest ${data.total} sessions are listed.`) : null];
}

function open(sessionId, target) {
  guard(target, "the transcript", async () => {
    const t = await api(`/api/v1/conversations/${encodeURIComponent(sessionId)}`);
    setTimeout(() => target.focus(), 0);
    return [
      h("p", { class: "meta" }, `Session ${t.session_id} · last active ${when(t.updated_at)}`,
        t.page_context && t.page_context.product_id ? ` · on product ${t.page_context.product_id}` : ""),
      t.handoffs.length ? note(`The shopper asked for a person ${t.handoffs.length} time(s).`, "warning") : null,
      h("ol", { class: "messages", "aria-label": "Messages" }, t.messages.map(message)),
    ];
  });
}

function message(m) {
  return h("li", { class: `message ${m.role}`, dataset: { role: m.role } },
    h("span", { class: "who" }, m.role === "shopper" ? "Shopper" : m.role === "assistant" ? "Assistant" : "System"),
    h("p", {}, m.text),
    m.cards && m.cards.length ? h("div", { class: "cards", "aria-label": "Products shown" }, m.cards.map(card)) : null,
    m.sources ? sources(m.sources) : null,
    (m.feedback || []).map((f) => h("p", { class: `feedback ${f.rating}` },
      f.rating === "up" ? "Shopper rated this answer helpful" : "Shopper rated this answer unhelpful",
      f.comment ? `: “${f.comment}”` : "")));
}

async function loadHandoffs() {
  const { items } = await api("/api/v1/handoffs?limit=50");
  if (!items.length) return note("No shopper has asked for a person.");
  return table("Shoppers who asked for a person, newest first", ["When", "Session", "Message", "Reason"],
    items.map((x) => [when(x.created_at), x.session_id, x.message, x.reason]), { class: "data" });
}
