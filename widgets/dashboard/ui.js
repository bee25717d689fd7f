// Shared pieces of the sections: guarded loading (errors and "not available yet" states) and the product picker.
import { api, ApiError } from "./api.js";
import { fill, h, note } from "./dom.js";

/** Run `load` and render its result into `target`; an API that does not answer yet gets a clear state, not a crash. */
export async function guard(target, label, load) {
  fill(target, note(`Loading ${label}…`, "loading"));
  target.setAttribute("aria-busy", "true");
  try {
    const content = await load();
    fill(target, content);
  } catch (err) {
    if (err instanceof ApiError && err.unavailable) {
      fill(target, note(`${capital(label)}: not available yet. This server does not have that feature; it appears ` +
        "here once it is deployed.", "unavailable"));
      target.dataset.state = "unavailable";
    } else {
      fill(target, note(`Could not load ${label}: ${err.message}${err.fix ? ` ${err.fix}` : ""}`, "error"));
      target.dataset.state = "error";
    }
    return;
  } finally {
    target.removeAttribute("aria-busy");
  }
  target.dataset.state = "ready";
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

let productList = null;

/** Every product (id and title), fetched once; bounded at 2,000. */
export function products() {
  if (!productList) {
    productList = (async () => {
      const all = [];
      let offset = 0;
      while (offset !== null && offset !== undefined && all.length < 2000) {
        const page = await api(`/api/v1/products?limit=200&offset=${offset}`);
        all.push(...page.items.map((p) => ({ id: p.id, title: p.title })));
        offset = page.next_offset;
      }
      return all.sort((a, b) => a.title.localeCompare(b.title));
    })();
    productList.catch(() => { productList = null; });
  }
  return productList;
}

/** A labelled <select> of the store's products. */
export async function productPicker(id, label, onChange, selected = "") {
  const list = await products();
  const select = h("select", { id, onchange: () => onChange(select.value) },
    list.map((p) => h("option", { value: p.id, selected: p.id === selected }, `${p.title} (${p.id})`)));
  return { element: h("div", { class: "field" }, h("label", { for: id }, label), select), select };
}

/** A button that shows it is busy while `action` runs, and reports failures in `status`. */
export function actionButton(text, action, status, attrs = {}) {
  const button = h("button", { type: "button", ...attrs, onclick: async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      if (status) fill(status, note(err instanceof ApiError && err.unavailable ? "Not available yet on this server."
        : `Failed: ${err.message}`, "error"));
    } finally {
      button.disabled = false;
    }
  } }, text);
  return button;
}
