// The merchant dashboard: sign in with the secret key, then five sections as keyboard-operable tabs.
import { api, ApiError, auth } from "./api.js";
import { fill, h } from "./dom.js";
import * as catalog from "./catalog.js";
import * as conversations from "./conversations.js";
import * as recommendations from "./recommendations.js";
import * as reviews from "./reviews.js";
import * as tuning from "./tuning.js";

const SECTIONS = [
  { id: "catalog", title: "Catalog", module: catalog },
  { id: "conversations", title: "Conversations", module: conversations },
  { id: "reviews", title: "Reviews", module: reviews },
  { id: "recommendations", title: "Recommendations", module: recommendations },
  { id: "fine-tunes", title: "Fine-tunes", module: tuning },
];

const $ = (id) => document.getElementById(id);

async function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => { auth.clear(); location.hash = ""; location.reload(); });
  if (auth.get()) {
    try {
      return open(await api("/dashboard/api/store"));
    } catch {
      auth.clear();
    }
  }
  showSignIn();
}

function showSignIn(message = "") {
  $("sign-in").hidden = false;
  $("app").hidden = true;
  $("sign-in-error").textContent = message;
  $("secret-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("secret-key").value.trim();
  if (!key.startsWith("sk_")) return showSignIn("That is not a secret key: it starts with sk_ (a publishable key, pk_, cannot sign in).");
  auth.set(key);
  try {
    const store = await api("/dashboard/api/store");
    $("secret-key").value = "";
    open(store);
  } catch (err) {
    auth.clear();
    showSignIn(err instanceof ApiError && err.status === 401 ? "That secret key does not open any store." : `Sign-in failed: ${err.message}`);
  }
}

function open(store) {
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  $("store-name").textContent = `${store.name} (${store.id})`;
  const app = $("app");
  const tabs = SECTIONS.map((s) => h("button", { type: "button", role: "tab", id: `tab-${s.id}`, "aria-controls": `panel-${s.id}`,
    "aria-selected": "false", tabindex: "-1", onclick: () => select(s.id, true), onkeydown: keys }, s.title));
  const panels = SECTIONS.map((s) => h("section", { role: "tabpanel", id: `panel-${s.id}`, "aria-labelledby": `tab-${s.id}`,
    tabindex: "0", hidden: true }));
  fill(app, h("div", { role: "tablist", "aria-label": "Dashboard sections", class: "tabs" }, tabs), panels);
  app.hidden = false;
  const rendered = new Set();

  function select(id, focus) {
    SECTIONS.forEach((s, i) => {
      const on = s.id === id;
      tabs[i].setAttribute("aria-selected", String(on));
      tabs[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on && !rendered.has(id)) {
        rendered.add(id);
        s.module.render(panels[i], store);
      }
      if (on && focus) tabs[i].focus();
    });
    history.replaceState(null, "", `#${id}`);
  }

  function keys(event) {
    const i = tabs.indexOf(event.currentTarget);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    select(SECTIONS[(to + tabs.length) % tabs.length].id, true);
  }

  const wanted = SECTIONS.find((s) => `#${s.id}` === location.hash);
  select(wanted ? wanted.id : "catalog", false);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
