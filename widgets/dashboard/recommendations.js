// Recommendations: pick any product and preview the similar and complementary products shoppers would see.
import { api, query } from "./api.js";
import { card, fill, h, note, when } from "./dom.js";
import { guard, productPicker } from "./ui.js";

export function render(panel) {
  const controls = h("div", { class: "controls", id: "recs-controls" });
  const similar = h("div", { id: "recs-similar", class: "block" });
  const complementary = h("div", { id: "recs-complementary", class: "block" });
  fill(panel, h("h2", {}, "Recommendations"), controls,
    h("div", { class: "cols" },
      h("section", { "aria-labelledby": "similar-title" }, h("h3", { id: "similar-title" }, "Similar products"), similar),
      h("section", { "aria-labelledby": "compl-title" }, h("h3", { id: "compl-title" }, "Goes well with"), complementary)));
  const show = (id) => {
    guard(similar, "similar products", () => preview(id, "similar"));
    guard(complementary, "complementary products", () => preview(id, "complementary"));
  };
  guard(controls, "products", async () => {
    const picker = await productPicker("recs-product", "Product", show);
    show(picker.select.value);
    return picker.element;
  });
}

async function preview(productId, kind) {
  const data = await api(`/api/v1/products/${encodeURIComponent(productId)}/recommendations${query({ kind, limit: 6 })}`);
  if (!data.items.length) return note(`No ${kind} products found for this one.`);
  return [h("div", { class: "cards" }, data.items.map(card)),
    h("p", { class: "meta" }, `Source: ${data.source || "—"} · computed ${when(data.computed_at)}`)];
}
