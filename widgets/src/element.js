// <storebot-chat>: the chat widget as a custom element with an open shadow root.
import { chatRequest, createClient } from "./api.js";
import { h } from "./dom.js";
import { localize } from "./i18n.js";
import { AssistantMessage, shopperMessage, suggestionChips } from "./messages.js";
import { cartDetail } from "./cards.js";
import { sourcesFromResponse } from "./sources.js";
import { loadSession, newSessionId, saveSession } from "./session.js";
import { widgetSheet } from "./styles.js";
import { buildView } from "./view.js";

/**
 * The shopping assistant chat. Configure with attributes: store (pk_...), api, locale, dir,
 * greeting, theme (light|dark|auto), position (right|left). Events are `storebot:*` CustomEvents
 * that bubble and are composed, so they reach `window`.
 */
export class StorebotChatElement extends HTMLElement {
  constructor() {
    super();
    this.context = {};
    this.busy = false;
  }

  connectedCallback() {
    if (this.shadowRoot) return;
    const store = this.getAttribute("store") || "";
    const { lang, dir, t } = localize(this.getAttribute("locale") || navigator.language, this.getAttribute("dir"));
    this.t = t;
    this.locale = this.getAttribute("locale") || navigator.language || "en";
    this.store = store;
    this.api = createClient(this.getAttribute("api") || location.origin, store);
    const root = this.attachShadow({ mode: "open" });
    const sheet = widgetSheet();
    if (sheet) root.adoptedStyleSheets = [sheet];
    this.view = buildView(t, { lang, dir });
    root.append(this.view.launcher, this.view.panel);
    this.wire();
    this.greet();
    this.session = loadSession(store);
    this.restoring = this.session ? this.restore(this.session) : Promise.resolve();
    queueMicrotask(() => this.emit("ready", { session: this.session }));
  }

  disconnectedCallback() {
    if (this.controller) this.controller.abort();
  }

  get isOpen() {
    return Boolean(this.view && !this.view.panel.hidden);
  }

  open() {
    if (!this.view || this.isOpen) return;
    const { panel, launcher, input } = this.view;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    this.scrollDown(true);
    input.focus();
    this.emit("open");
  }

  close() {
    if (!this.view || !this.isOpen) return;
    const { panel, launcher } = this.view;
    const hadFocus = this.shadowRoot.activeElement || document.activeElement === document.body;
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) launcher.focus();
    this.emit("close");
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  /** {productId, cart, page}: sent as page_context with every message. */
  setContext(context) {
    this.context = { ...this.context, ...(context || {}) };
  }

  /** Send a shopper message; resolves when the answer has finished streaming. */
  async send(text) {
    const message = String(text == null ? "" : text).trim();
    if (!message || this.busy || !this.view) return;
    this.busy = true; // before awaiting the restore, so a second send can't slip in
    await this.restoring;
    this.clearTransient();
    this.view.log.append(shopperMessage(message, this.t));
    this.emit("message", { role: "shopper", text: message });
    return this.run(message);
  }

  /** Start a new conversation: forget the old one server-side and clear the log. */
  async reset() {
    if (!this.view) return;
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.busy = false;
    this.view.sendButton.disabled = false;
    this.view.log.removeAttribute("aria-busy");
    const old = this.session;
    this.session = newSessionId();
    saveSession(this.store, this.session);
    this.clearTransient();
    this.view.log.replaceChildren();
    this.greet();
    this.emit("reset", { session: this.session });
    if (this.isOpen) this.view.input.focus();
    if (old) await this.api.forget(old).catch(() => {});
  }

  destroy() {
    if (this.controller) this.controller.abort();
    this.remove();
  }

  // -- internals ------------------------------------------------------------------------

  emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(`storebot:${name}`, { detail, bubbles: true, composed: true }));
  }

  wire() {
    const { launcher, closeButton, resetButton, panel, form, input } = this.view;
    launcher.addEventListener("click", () => this.open());
    closeButton.addEventListener("click", () => this.close());
    resetButton.addEventListener("click", () => this.reset());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.busy || !input.value.trim()) return;
      const text = input.value;
      input.value = "";
      this.send(text);
    });
  }

  greet() {
    const text = this.getAttribute("greeting") || this.t("greeting");
    const greeting = new AssistantMessage(this.t, this.locale);
    greeting.setText(text);
    greeting.root.classList.add("greeting");
    greeting.root.setAttribute("data-role", "greeting");
    this.view.log.append(greeting.root);
  }

  async restore(session) {
    try {
      const { messages = [] } = await this.api.history(session);
      for (const m of messages) {
        if (m.role === "shopper") this.view.log.append(shopperMessage(m.text, this.t));
        else {
          const msg = this.assistant();
          msg.restore(m);
          if (m.id) msg.addFeedback((rating) => this.rate(session, rating, m.id));
        }
      }
      this.scrollDown(true);
    } catch {
      // an expired or unknown session just starts empty
    }
  }

  assistant() {
    const msg = new AssistantMessage(this.t, this.locale, (card, button) => this.addToCart(card, button));
    this.view.log.append(msg.root);
    return msg;
  }

  clearTransient() {
    const { error, typing } = this.view;
    error.hidden = true;
    error.replaceChildren();
    typing.hidden = true;
    if (this.chips) this.chips.remove();
    this.chips = null;
  }

  async run(message) {
    const { log, typing } = this.view;
    if (!this.session) {
      this.session = newSessionId();
      saveSession(this.store, this.session);
    }
    const session = this.session;
    const controller = (this.controller = new AbortController());
    let msg = null;
    let done = null;
    let failed = null;
    let suggestions = null;
    let sources = null;
    const ensure = () => {
      if (!msg) {
        msg = this.assistant();
        msg.root.setAttribute("data-state", "streaming");
      }
      return msg;
    };
    const body = chatRequest(message, session, this.context);
    this.busy = true;
    this.view.sendButton.disabled = true;
    log.setAttribute("aria-busy", "true");
    typing.hidden = false;
    this.scrollDown(true);
    try {
      await this.api.stream(body, (event, data) => {
        if (controller.signal.aborted) return;
        if (event === "token") {
          ensure().append(data && data.text);
          typing.hidden = true;
        } else if (event === "products") ensure().setCards(data && data.items);
        else if (event === "sources") sources = data;
        else if (event === "suggestions") suggestions = data && data.items;
        else if (event === "done") done = data || {};
        else if (event === "error") failed = data || {};
        this.scrollDown();
      }, controller.signal);
      if (!done && !failed) failed = { code: "interrupted", message: "" };
    } catch (err) {
      failed = err && err.name === "AbortError" ? null : err;
      if (!failed) return; // reset() or destroy() cancelled this turn
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.busy = false;
        this.view.sendButton.disabled = false;
        typing.hidden = true;
        log.removeAttribute("aria-busy");
      }
    }
    if (controller.signal.aborted) return;
    if (failed) {
      if (msg && !msg.text) msg.root.remove();
      else if (msg) msg.root.setAttribute("data-state", "error");
      return this.fail(failed, message);
    }
    const m = ensure();
    m.root.setAttribute("data-state", "done");
    if (done.text && done.text !== m.text) m.setText(done.text);
    m.setSources(sources || sourcesFromResponse(done));
    m.setCards(done.cards);
    if (done.session_id && done.session_id !== session) {
      this.session = done.session_id;
      saveSession(this.store, this.session);
    }
    if (done.message_id) m.addFeedback((rating) => this.rate(this.session, rating, done.message_id));
    this.chips = suggestionChips(done.suggestions && done.suggestions.length ? done.suggestions : suggestions, this.t, (text) => this.send(text));
    if (this.chips) log.append(this.chips);
    this.scrollDown();
    this.emit("message", { role: "assistant", text: m.text, response: done });
  }

  fail(err, message) {
    const code = err.code || "error";
    const text = code === "network" ? this.t("offline") : code === "internal_error" || !err.message ? this.t("error") : err.message;
    const retry = h("button", { type: "button", class: "retry", part: "retry", text: this.t("retry") });
    retry.addEventListener("click", () => {
      this.clearTransient();
      this.run(message);
    });
    this.view.error.replaceChildren(h("p", { text }), retry);
    this.view.error.hidden = false;
    this.scrollDown(true);
    if (err.fix || /^http_4|unauthorized|forbidden/.test(code)) console.warn(`storebot: ${code}: ${err.message || ""} ${err.fix || ""}`);
    this.emit("error", { code, message: text, fix: err.fix });
  }

  rate(session, rating, turn) {
    return this.api.feedback(session, rating, turn).catch((err) => {
      this.emit("error", { code: err.code || "error", message: err.message });
      throw err;
    });
  }

  addToCart(card, button) {
    this.emit("add-to-cart", cartDetail(card));
    button.textContent = this.t("added");
    setTimeout(() => (button.textContent = this.t("add")), 2000);
  }

  scrollDown(force) {
    const { scroll } = this.view;
    if (force || scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 120) scroll.scrollTop = scroll.scrollHeight;
  }
}
