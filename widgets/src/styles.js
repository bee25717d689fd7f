// The widget's styles as one constructable stylesheet, adopted by each shadow root (CSP-safe: no <style>, no style=).

const DARK = `
  --storebot-bg: #111827;
  --storebot-fg: #f9fafb;
  --storebot-muted: #9ca3af;
  --storebot-surface: #1f2937;
  --storebot-border: #374151;
  --storebot-accent-text: #a5b4fc;
  --storebot-sale: #fca5a5;
  --storebot-ok: #6ee7b7;
  --storebot-danger-bg: #3f1d1d;
  color-scheme: dark;
`;

const CSS = `
:host {
  all: initial;
  --storebot-accent: #4f46e5;
  --storebot-accent-fg: #ffffff;
  --storebot-accent-text: #4338ca;
  --storebot-bg: #ffffff;
  --storebot-fg: #111827;
  --storebot-muted: #4b5563;
  --storebot-surface: #f3f4f6;
  --storebot-border: #e5e7eb;
  --storebot-sale: #b91c1c;
  --storebot-ok: #047857;
  --storebot-danger-bg: #fef2f2;
  --storebot-radius: 16px;
  --storebot-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --storebot-shadow: 0 12px 40px rgb(0 0 0 / .18), 0 2px 8px rgb(0 0 0 / .08);
  --storebot-z: 2147483000;
  display: block;
  position: fixed;
  z-index: var(--storebot-z);
  bottom: 20px;
  right: 20px;
  font-family: var(--storebot-font);
  font-size: 15px;
  line-height: 1.45;
  color: var(--storebot-fg);
  color-scheme: light;
}
:host([position="left"]) { right: auto; left: 20px; }
:host([theme="dark"]) { ${DARK} }
@media (prefers-color-scheme: dark) { :host([theme="auto"]) { ${DARK} } }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
button { font: inherit; color: inherit; cursor: pointer; }
button:disabled { cursor: not-allowed; opacity: .55; }
:focus-visible { outline: 2px solid var(--storebot-accent); outline-offset: 2px; }
.icon { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; flex: none; }
[dir="rtl"] .icon-send { transform: scaleX(-1); }

.launcher {
  display: grid; place-items: center; width: 60px; height: 60px; border: 0; border-radius: 50%;
  background: var(--storebot-accent); color: var(--storebot-accent-fg); box-shadow: var(--storebot-shadow);
  transition: transform .15s ease, box-shadow .15s ease;
}
.launcher .icon { width: 28px; height: 28px; }
.launcher:hover { transform: scale(1.06); }
.launcher:focus-visible { outline-offset: 4px; }

.panel {
  position: absolute; bottom: 0; right: 0; display: flex; flex-direction: column;
  width: min(400px, calc(100vw - 40px)); height: min(640px, calc(100vh - 40px));
  background: var(--storebot-bg); color: var(--storebot-fg); border: 1px solid var(--storebot-border);
  border-radius: var(--storebot-radius); box-shadow: var(--storebot-shadow); overflow: hidden;
  animation: sb-in .18s ease-out;
}
:host([position="left"]) .panel { right: auto; left: 0; }
@keyframes sb-in { from { opacity: 0; transform: translateY(12px) scale(.98); } }

.header {
  display: flex; align-items: center; gap: 8px; padding-block: 12px; padding-inline: 16px 8px;
  background: var(--storebot-accent); color: var(--storebot-accent-fg);
}
.header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
.header button {
  display: grid; place-items: center; width: 36px; height: 36px; border: 0; border-radius: 50%; background: transparent;
}
.header button:hover { background: rgb(255 255 255 / .16); }
.header button:focus-visible { outline-color: var(--storebot-accent-fg); outline-offset: -3px; }

.scroll { flex: 1; overflow-y: auto; overscroll-behavior: contain; padding: 16px; }
.log { display: flex; flex-direction: column; gap: 12px; }
.msg { display: flex; flex-direction: column; gap: 8px; max-width: 100%; }
.bubble {
  max-width: 85%; margin: 0; padding: 10px 14px; border-radius: 18px; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--storebot-surface); border-end-start-radius: 4px; align-self: flex-start;
}
.msg.shopper .bubble {
  align-self: flex-end; background: var(--storebot-accent); color: var(--storebot-accent-fg);
  border-end-start-radius: 18px; border-end-end-radius: 4px;
}
.bubble:empty { display: none; }

.cards { display: flex; gap: 10px; overflow-x: auto; padding-block-end: 4px; scroll-snap-type: x proximity; }
.card {
  flex: 0 0 176px; display: flex; flex-direction: column; scroll-snap-align: start;
  background: var(--storebot-bg); border: 1px solid var(--storebot-border); border-radius: 12px; overflow: hidden;
}
.card-img { display: block; width: 100%; aspect-ratio: 1; object-fit: cover; background: var(--storebot-surface); }
.card-body { display: flex; flex-direction: column; gap: 3px; flex: 1; padding: 10px; font-size: 13px; }
.card-body p { margin: 0; }
.brand, .options { color: var(--storebot-muted); font-size: 12px; }
.card-title { margin: 0; font-size: 14px; font-weight: 600; line-height: 1.3; }
.card-title a { color: inherit; text-decoration: none; }
.card-title a:hover { text-decoration: underline; }
.price { font-weight: 600; }
.sale { color: var(--storebot-sale); }
.was { color: var(--storebot-muted); font-weight: 400; }
.rating { color: var(--storebot-muted); font-size: 12px; letter-spacing: .02em; }
.stock.in { color: var(--storebot-ok); }
.stock.out { color: var(--storebot-muted); }
.add {
  margin-block-start: auto; padding: 8px 10px; border: 0; border-radius: 8px;
  background: var(--storebot-accent); color: var(--storebot-accent-fg); font-weight: 600; font-size: 13px;
}
.add:not(:disabled):hover { filter: brightness(1.1); }
.card .add { margin-block-start: 8px; }

.actions { display: flex; gap: 4px; align-items: center; }
.actions button {
  display: grid; place-items: center; width: 32px; height: 32px; border: 1px solid transparent; border-radius: 8px;
  background: transparent; color: var(--storebot-muted);
}
.actions .icon { width: 16px; height: 16px; }
.actions button:hover { background: var(--storebot-surface); }
.actions button[aria-pressed="true"] { color: var(--storebot-accent-text); border-color: currentColor; }
.actions .note { font-size: 12px; color: var(--storebot-muted); margin-inline-start: 4px; }

.sources { align-self: flex-start; max-width: 85%; font-size: 13px; color: var(--storebot-muted); }
.sources summary {
  display: flex; align-items: center; gap: 6px; width: fit-content; padding: 2px 8px; margin-inline-start: -2px;
  border-radius: 6px; list-style: none; cursor: pointer;
}
.sources summary::-webkit-details-marker { display: none; }
.sources summary::before {
  content: ""; width: 6px; height: 6px; border: solid currentColor; border-width: 0 1.5px 1.5px 0;
  transform: rotate(-45deg); transition: transform .15s ease;
}
[dir="rtl"] .sources summary::before { transform: rotate(135deg); }
.sources[open] summary::before { transform: rotate(45deg); }
.sources summary:hover { color: var(--storebot-fg); background: var(--storebot-surface); }
.sources ul { display: flex; flex-direction: column; gap: 10px; margin: 6px 0 2px; padding: 0; list-style: none; }
.source {
  padding-inline-start: 10px; border-inline-start: 3px solid var(--storebot-border); color: var(--storebot-fg);
  overflow-wrap: anywhere;
}
.source-head { display: flex; gap: 8px; align-items: baseline; margin: 0; }
.ref { font-weight: 600; color: var(--storebot-accent-text); }
.stars { color: var(--storebot-muted); letter-spacing: .05em; }
.quote { display: block; }

.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chips button {
  padding: 6px 12px; border: 1px solid var(--storebot-accent-text); border-radius: 999px; background: transparent;
  color: var(--storebot-accent-text); font-size: 13px; text-align: start;
}
.chips button:hover { background: var(--storebot-surface); }

.typing { display: flex; gap: 4px; width: fit-content; margin-block-start: 12px; padding: 14px 16px;
  border-radius: 18px; border-end-start-radius: 4px; background: var(--storebot-surface); }
.typing i { width: 7px; height: 7px; border-radius: 50%; background: var(--storebot-muted); animation: sb-dot 1.2s infinite ease-in-out; }
.typing i:nth-child(2) { animation-delay: .15s; }
.typing i:nth-child(3) { animation-delay: .3s; }
@keyframes sb-dot { 0%, 80%, 100% { opacity: .3; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }

.error {
  display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-block-start: 12px; padding: 10px 12px;
  border: 1px solid var(--storebot-sale); border-radius: 12px; background: var(--storebot-danger-bg); font-size: 14px;
}
.error p { flex: 1; margin: 0; min-width: 12em; }
.error button { padding: 6px 12px; border: 1px solid currentColor; border-radius: 8px; background: transparent; font-weight: 600; }

.form { display: flex; align-items: flex-end; gap: 8px; padding: 12px; border-block-start: 1px solid var(--storebot-border); }
.form textarea {
  flex: 1; min-height: 42px; max-height: 140px; padding: 10px 14px; resize: none; field-sizing: content;
  font: inherit; color: inherit; background: var(--storebot-bg);
  border: 1px solid var(--storebot-border); border-radius: 21px;
}
.form textarea:focus-visible { outline-offset: 0; border-color: var(--storebot-accent); }
.form textarea::placeholder { color: var(--storebot-muted); }
.send {
  display: grid; place-items: center; width: 42px; height: 42px; border: 0; border-radius: 50%;
  background: var(--storebot-accent); color: var(--storebot-accent-fg);
}

@media (max-width: 639.98px) {
  :host { bottom: 16px; right: 16px; }
  :host([position="left"]) { left: 16px; }
  .panel {
    position: fixed; inset: 0; width: 100%; height: 100%; height: 100dvh;
    border: 0; border-radius: 0;
  }
  :host([position="left"]) .panel { left: 0; }
  .form textarea { font-size: 16px; }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
`;

let sheet;

/** The shared stylesheet, built once per page (null where constructable stylesheets are missing). */
export function widgetSheet() {
  if (sheet === undefined) {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    } catch {
      sheet = null;
    }
  }
  return sheet;
}
