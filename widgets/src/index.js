// The script-tag embed: read data-* config, add one <storebot-chat>, expose window.Storebot, replay queued calls.
import "./define.js";
import { createTracker } from "./track.js";

const VERSION = "0.1.0";
const METHODS = ["open", "close", "toggle", "send", "reset", "setContext"];

function config(script) {
  const data = (script && script.dataset) || {};
  let origin = location.origin;
  try {
    if (script && script.src) origin = new URL(script.src, location.href).origin;
  } catch {
    // keep the page's origin
  }
  return {
    store: data.store || "",
    api: data.api || origin,
    position: data.position === "left" ? "left" : "right",
    locale: data.locale || document.documentElement.lang || navigator.language || "en",
    dir: data.dir,
    greeting: data.greeting,
    theme: ["dark", "auto"].includes(data.theme) ? data.theme : "light",
    open: data.open === "true",
  };
}

function boot(script) {
  const previous = window.Storebot;
  const queue = (previous && previous.q) || [];
  if (previous && previous.version) {
    // Loaded twice: the first copy owns the page; just run anything queued since.
    previous.q = [];
    queue.forEach((args) => previous(...args));
    return;
  }
  const settings = config(script);
  if (!settings.store) console.warn("storebot: add data-store=\"pk_...\" (your publishable key) to the widget's script tag.");

  let element = null;
  const pending = [];
  const listeners = [];
  const withElement = (fn) => (element ? fn(element) : pending.push(fn));

  function Storebot(method, ...args) {
    const fn = Storebot[method];
    if (typeof fn !== "function" || method === "q") return console.warn(`storebot: unknown method ${method}`);
    return fn(...args);
  }
  for (const name of METHODS) {
    Storebot[name] = (...args) => withElement((el) => el[name](...args));
  }
  Storebot.track = createTracker(settings, () => element);
  Storebot.version = VERSION;
  Storebot.q = [];
  Storebot.on = (event, fn) => {
    const type = String(event).startsWith("storebot:") ? event : `storebot:${event}`;
    const handler = (e) => fn(e.detail, e);
    listeners.push({ type, fn, handler });
    window.addEventListener(type, handler);
  };
  Storebot.off = (event, fn) => {
    const type = String(event).startsWith("storebot:") ? event : `storebot:${event}`;
    for (const item of listeners.filter((l) => l.type === type && (!fn || l.fn === fn))) {
      window.removeEventListener(type, item.handler);
      listeners.splice(listeners.indexOf(item), 1);
    }
  };
  // Removes the widget and its listeners; loading the script again starts afresh.
  Storebot.destroy = () => {
    withElement((el) => el.destroy());
    listeners.splice(0).forEach((l) => window.removeEventListener(l.type, l.handler));
    if (window.Storebot === Storebot) delete window.Storebot;
  };
  Object.defineProperty(Storebot, "element", { get: () => element });
  window.Storebot = Storebot;

  const mount = () => {
    if (window.Storebot !== Storebot) return; // destroyed before the page finished loading
    element = document.createElement("storebot-chat");
    for (const name of ["store", "api", "position", "locale", "dir", "greeting", "theme"]) {
      if (settings[name]) element.setAttribute(name, settings[name]);
    }
    document.body.append(element);
    pending.splice(0).forEach((fn) => fn(element));
    if (settings.open) element.open();
  };
  queue.forEach((args) => Storebot(...args));
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
}

boot(document.currentScript || document.querySelector("script[data-store]"));
