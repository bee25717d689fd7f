// Tiny DOM helpers. Text from the catalog, shoppers or the API is only ever set as textContent, never as HTML.

/** h("p", {class: "x", onclick: fn}, "text", child) -> element. Attributes starting with "on" become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function when(seconds) {
  if (!seconds) return "—";
  const date = typeof seconds === "string" ? new Date(seconds) : new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function money(amount, currency = "USD") {
  if (amount === null || amount === undefined || amount === "") return "—";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

export function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KB", "MB", "GB"];
  const i = Math.min(Math.floor(Math.log(n) / Math.log(1024)), units.length - 1);
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** A table from column headers and rows of cells (strings or nodes). */
export function table(caption, headers, rows, attrs = {}) {
  return h("table", attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

/** A status line: loading, empty, error or "not available yet". */
export function note(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A product card (title, price, availability) from an API card or search item. */
export function card(item) {
  const price = item.sale_price || item.price;
  const stock = item.availability || (item.in_stock === false ? "out_of_stock" : item.in_stock ? "in_stock" : "");
  return h("article", { class: "pcard", dataset: { productId: item.id } },
    item.image ? h("img", { src: item.image, alt: "", loading: "lazy" }) : null,
    h("h4", {}, item.title || item.id),
    h("p", { class: "meta" }, money(price, item.currency || "USD"), stock ? ` · ${stock.replace(/_/g, " ")}` : "",
      item.score !== undefined ? ` · score ${Number(item.score).toFixed(3)}` : ""),
    item.reason ? h("p", { class: "meta" }, item.reason) : null);
}
