// Product cards, built from catalog records (never from model output) with text nodes only.
import { h, safeUrl } from "./dom.js";

const formats = new Map();

/** "139.00" + "USD" -> "$139.00" in the widget's locale; falls back to "139.00 USD". */
export function formatPrice(amount, currency, locale) {
  const value = Number(amount);
  if (amount == null || amount === "" || !Number.isFinite(value)) return "";
  const key = `${locale}|${currency}`;
  try {
    if (!formats.has(key)) {
      formats.set(key, new Intl.NumberFormat(locale, { style: "currency", currency: currency || "USD" }));
    }
    return formats.get(key).format(value);
  } catch {
    return `${amount} ${currency || ""}`.trim();
  }
}

/** The price the shopper would pay now, preferring the matched variant's. */
export function currentPrice(card) {
  const variant = card.matched_variant || {};
  if (variant.price) return variant.sale_price || variant.price;
  return card.sale_price || card.price || null;
}

function stars(avg) {
  const full = Math.max(0, Math.min(5, Math.round(Number(avg) || 0)));
  return "★".repeat(full) + "☆".repeat(5 - full);
}

function priceRow(card, locale) {
  const variant = card.matched_variant || {};
  const base = variant.price ? variant : card;
  const price = formatPrice(base.price, card.currency, locale);
  const sale = base.sale_price ? formatPrice(base.sale_price, card.currency, locale) : "";
  if (!price && !sale) return null;
  if (!sale || sale === price) return h("p", { class: "price", part: "price" }, price);
  return h(
    "p",
    { class: "price on-sale", part: "price" },
    h("span", { class: "sale", text: sale }),
    " ",
    h("s", { class: "was", text: price }),
  );
}

/** The storebot:add-to-cart event's detail: what the host page needs to add the item to its cart. */
export function cartDetail(card) {
  const variant = card.matched_variant;
  return {
    productId: card.id,
    variantId: variant ? variant.id : null,
    title: card.title,
    price: currentPrice(card),
    currency: card.currency,
    url: card.url,
  };
}

/** An unavailable product (or the variant the shopper asked for) cannot be added. */
export function isOutOfStock(card) {
  const variant = card.matched_variant;
  return card.availability === "out_of_stock" || (variant && variant.availability === "out_of_stock");
}

/** One card: image, linked title, price, rating, availability and an "Add to cart" button. */
export function renderCard(card, { t, locale, uid, onAdd }) {
  const titleId = `sb-card-${uid}`;
  const href = safeUrl(card.url);
  const src = safeUrl(card.image || (card.matched_variant && card.matched_variant.image));
  const title = String(card.title || "");
  const variant = card.matched_variant;
  const options = variant && variant.options ? Object.values(variant.options).filter(Boolean).join(" · ") : "";
  const out = isOutOfStock(card);
  const availability = out ? "out_of_stock" : card.availability || "in_stock";
  const label = ["in_stock", "out_of_stock", "preorder", "backorder"].includes(availability)
    ? t(availability)
    : String(availability).replace(/_/g, " ");

  const image = src
    ? h("img", { class: "card-img", src, alt: title, loading: "lazy", decoding: "async" })
    : h("div", { class: "card-img placeholder", "aria-hidden": "true" });
  const heading = h("h3", { class: "card-title", id: titleId, dir: "auto" },
    href ? h("a", { href, text: title }) : h("span", { text: title }));
  const count = Number(card.rating_count) || 0;
  const rating = card.rating_avg != null && count > 0
    ? h("p", {
        class: "rating",
        role: "img",
        "aria-label": t("rating", { r: Number(card.rating_avg).toFixed(1), n: count }),
        text: `${stars(card.rating_avg)} ${Number(card.rating_avg).toFixed(1)} (${count})`,
      })
    : null;
  const button = h("button", {
    type: "button",
    class: "add",
    part: "add-to-cart",
    "aria-describedby": titleId,
    disabled: out,
    text: t("add"),
  });
  button.addEventListener("click", () => onAdd(card, button));

  return h(
    "article",
    { class: "card", part: "card", "aria-labelledby": titleId, "data-product-id": card.id },
    image,
    h(
      "div",
      { class: "card-body" },
      card.brand ? h("p", { class: "brand", text: card.brand }) : null,
      heading,
      options ? h("p", { class: "options", text: options }) : null,
      priceRow(card, locale),
      rating,
      h("p", { class: `stock ${out ? "out" : "in"}`, text: label }),
      button,
    ),
  );
}
