// Messages in the log: shopper and assistant bubbles, product cards, feedback and suggestion chips.
import { h, icon } from "./dom.js";
import { renderCard } from "./cards.js";
import { renderSources } from "./sources.js";

let uid = 0;

/** A shopper's message. */
export function shopperMessage(text, t) {
  return h(
    "div",
    { class: "msg shopper", part: "message message-shopper", "data-role": "shopper" },
    h("p", { class: "bubble", part: "bubble", dir: "auto" }, h("span", { class: "sr", text: `${t("you")}: ` }), text),
  );
}

/** An assistant message whose text grows token by token; cards, feedback and chips attach to it. */
export class AssistantMessage {
  constructor(t, locale, onAdd) {
    this.t = t;
    this.locale = locale;
    this.onAdd = onAdd;
    this.text = "";
    this.body = h("p", { class: "bubble", part: "bubble", dir: "auto" });
    this.root = h("div", { class: "msg assistant", part: "message message-assistant", "data-role": "assistant" }, this.body);
  }

  /** Append streamed text as a new text node (never parsed as markup). */
  append(text) {
    if (!text) return;
    if (!this.text) this.body.append(h("span", { class: "sr", text: `${this.t("bot")}: ` }));
    this.text += text;
    this.body.append(document.createTextNode(text));
  }

  /** Replace the text wholesale (a restored turn, or a `done` whose text differs from the tokens). */
  setText(text) {
    this.body.replaceChildren();
    this.text = "";
    this.append(text);
  }

  setCards(cards) {
    if (this.cards || !cards || !cards.length) return;
    const ctx = { t: this.t, locale: this.locale, onAdd: this.onAdd };
    this.cards = h(
      "div",
      { class: "cards", part: "cards", role: "group", "aria-label": this.t("products") },
      cards.map((card) => renderCard(card, { ...ctx, uid: ++uid })),
    );
    (this.sources || this.body).after(this.cards);
  }

  /** A finished answer from the history: its text, sources and cards (the cards carry today's price and stock). */
  restore({ text, sources, cards }) {
    this.setText(text);
    this.setSources(sources);
    this.setCards(cards);
    this.root.setAttribute("data-state", "done");
  }

  /** "Based on N reviews" under the text: collapsed until the shopper opens it. */
  setSources(sources) {
    if (this.sources) return;
    this.sources = renderSources(sources, this.t);
    if (this.sources) this.body.after(this.sources);
  }

  /** Thumbs up / down; onRate(rating) returns a promise, and a failed vote is un-pressed. */
  addFeedback(onRate) {
    if (this.actions) return;
    const note = h("span", { class: "note", role: "status" });
    const vote = (rating, label) => {
      const button = h("button", { type: "button", class: rating, part: `feedback feedback-${rating}`, "aria-label": label, title: label, "aria-pressed": "false" }, icon(rating));
      button.addEventListener("click", async () => {
        if (button.getAttribute("aria-pressed") === "true") return;
        const previous = [...this.actions.querySelectorAll("button")].map((b) => b.getAttribute("aria-pressed"));
        for (const b of this.actions.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
        try {
          await onRate(rating);
          note.textContent = this.t("thanks");
        } catch {
          this.actions.querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", previous[i]));
        }
      });
      return button;
    };
    this.actions = h("div", { class: "actions", part: "feedback-bar" }, vote("up", this.t("up")), vote("down", this.t("down")), note);
    this.root.append(this.actions);
  }
}

/** Suggestion chips: each a button that sends its text. */
export function suggestionChips(items, t, onPick) {
  const list = (items || []).filter((s) => typeof s === "string" && s.trim()).slice(0, 6);
  if (!list.length) return null;
  return h(
    "div",
    { class: "chips", part: "suggestions", role: "group", "aria-label": t("suggestions") },
    list.map((text) => {
      const chip = h("button", { type: "button", class: "chip", part: "suggestion", dir: "auto", text });
      chip.addEventListener("click", () => onPick(text));
      return chip;
    }),
  );
}
