// The widget's static skeleton: launcher, dialog panel, header, message log, typing indicator, input form.
import { h, icon } from "./dom.js";

/** Build the shadow DOM skeleton and return references to its live parts. */
export function buildView(t, { lang, dir }) {
  const launcher = h(
    "button",
    { type: "button", class: "launcher", part: "launcher", "aria-label": t("open"), "aria-expanded": "false", "aria-controls": "sb-panel" },
    icon("chat"),
  );
  const resetButton = h("button", { type: "button", class: "reset", part: "reset", "aria-label": t("reset"), title: t("reset") }, icon("reset"));
  const closeButton = h("button", { type: "button", class: "close", part: "close", "aria-label": t("close"), title: t("close") }, icon("close"));
  const log = h("div", { class: "log", part: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text", "aria-label": t("title") });
  const typing = h(
    "div",
    { class: "typing", part: "typing", role: "status", hidden: true },
    h("span", { class: "sr", text: t("typing") }),
    h("i", { "aria-hidden": "true" }),
    h("i", { "aria-hidden": "true" }),
    h("i", { "aria-hidden": "true" }),
  );
  const error = h("div", { class: "error", part: "error", role: "alert", hidden: true });
  const scroll = h("div", { class: "scroll" }, log, typing, error);
  const input = h("textarea", {
    id: "sb-input",
    class: "input",
    part: "input",
    name: "message",
    rows: "1",
    maxlength: "2000",
    autocomplete: "off",
    enterkeyhint: "send",
    placeholder: t("placeholder"),
  });
  const sendButton = h("button", { type: "submit", class: "send", part: "send", "aria-label": t("send"), title: t("send") }, icon("send"));
  const form = h(
    "form",
    { class: "form", part: "form" },
    h("label", { class: "sr", for: "sb-input", text: t("label") }),
    input,
    sendButton,
  );
  const panel = h(
    "div",
    {
      id: "sb-panel",
      class: "panel",
      part: "panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-label": t("panel"),
      lang,
      dir,
      hidden: true,
    },
    h("div", { class: "header", part: "header" }, h("h2", { text: t("title") }), resetButton, closeButton),
    scroll,
    form,
  );
  return { launcher, panel, resetButton, closeButton, log, typing, error, scroll, form, input, sendButton };
}
