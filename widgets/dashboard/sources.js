// What an answer in a transcript was based on: "Based on 3 reviews · Returns & Exchanges", a collapsed <details>
// (keyboard and screen reader support come with the element) listing each cited review with its id, stars and quote,
// and each policy by its title. Review text is shoppers' words: dom.js sets it as text, never as HTML.
import { normalizeSources, policyName } from "../src/sources.js"; // the shopper widget's rules, one copy
import { h } from "./dom.js";

/** The disclosure under an answer, or null for an answer that cited nothing or was stored before sources were kept. */
export function sources(data) {
  const { reviews } = normalizeSources(data);
  const policies = distinctPolicies(data && data.policies, data && data.policy_titles);
  if (!reviews.length && !policies.length) return null;
  return h("details", { class: "sources" },
    h("summary", {}, summary(reviews.length, policies)),
    h("ul", { class: "source-list", "aria-label": "Reviews and policies this answer was based on" },
      reviews.map(review),
      policies.map((p) => h("li", { class: "source policy", dataset: { policy: p.id } },
        h("span", { class: "ref" }, "Policy"), " ", p.title,
        p.known ? null : h("span", { class: "meta" }, " (no longer in the catalog)")))));
}

function summary(count, policies) {
  const parts = [];
  if (count) parts.push(`${count} review${count === 1 ? "" : "s"}`);
  if (policies.length) parts.push(policies.map((p) => p.title).join(", "));
  return `Based on ${parts.join(" · ")}`;
}

function review(r) {
  const id = String(r.review_id);
  const rating = r.rating === null || r.rating === undefined ? null : Math.max(0, Math.min(5, Math.round(Number(r.rating) || 0)));
  return h("li", { class: "source", dataset: { reviewId: id } },
    h("p", { class: "source-head" },
      h("span", { class: "ref" }, `#${id}`),
      rating === null ? null : h("span", { class: "stars", role: "img", "aria-label": `${rating} of 5 stars` },
        "★".repeat(rating) + "☆".repeat(5 - rating)),
      r.product_id ? h("span", { class: "meta" }, `product ${r.product_id}`) : null),
    r.text ? h("q", { class: "quote", dir: "auto" }, r.text) : null);
}

/** Each policy once ("returns#0" and "returns#2" are passages of one policy), titled; a deleted one by its id made readable. */
function distinctPolicies(passages, titles) {
  const byPolicy = new Map();
  for (const passage of Array.isArray(passages) ? passages : []) {
    const id = String(passage).split("#")[0];
    const title = titles && typeof titles[passage] === "string" ? titles[passage].trim() : "";
    const known = byPolicy.get(id);
    if (!known || (!known.known && title)) byPolicy.set(id, { id, title: policyName(passage, titles), known: Boolean(title) });
  }
  return [...byPolicy.values()];
}
