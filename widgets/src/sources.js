// "Based on 3 reviews": a collapsed disclosure under an answer listing the reviews and policies it drew on.
// Review text is shoppers' words: rendered as text nodes only, like catalog text in cards.js.
import { h } from "./dom.js";

const QUOTE = 200;

/** The `sources` event's shape from a `done` response (the JSON fallback): citations and policy ids. */
export function sourcesFromResponse(response) {
  return { reviews: response.citations, policies: response.policy_sources };
}

/** "Title. A long review…" cut at a word boundary to about `max` characters. */
export function trimQuote(text, max = QUOTE) {
  const clean = String(text || "").replace(/\s+/g, " ").trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, "")}…`;
}

/** A policy's name: its title when the server sent one, else the id made readable ("returns#0" -> "Returns"). */
export function policyName(id, titles) {
  const title = titles && typeof titles[id] === "string" ? titles[id].trim() : "";
  if (title) return title;
  const base = String(id).split("#")[0].replace(/[-_]+/g, " ").trim();
  return base.length <= 3 ? base.toUpperCase() : base[0].toUpperCase() + base.slice(1);
}

/** The distinct reviews and policies of a `sources` payload (a policy's passages count once). */
export function normalizeSources(sources) {
  const data = sources || {};
  const seen = new Set();
  const reviews = (Array.isArray(data.reviews) ? data.reviews : []).filter((r) => {
    const id = r && r.review_id != null ? String(r.review_id) : "";
    if (!id || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const names = new Set();
  for (const id of Array.isArray(data.policies) ? data.policies : []) {
    if (typeof id === "string" && id) names.add(policyName(id, data.policy_titles));
  }
  return { reviews, policies: [...names] };
}

function summaryText(t, reviews, policies) {
  const n = reviews.length;
  if (n && policies.length) return t("basedBoth", { n });
  if (n) return t(n === 1 ? "basedReview" : "basedReviews", { n });
  return policies.length === 1 ? t("basedPolicy", { p: policies[0] }) : t("basedPolicies", { n: policies.length });
}

function reviewItem(review, t) {
  const rating = Math.max(0, Math.min(5, Math.round(Number(review.rating) || 0)));
  const id = String(review.review_id);
  return h(
    "li",
    { class: "source", part: "source", "data-review-id": id },
    h(
      "p",
      { class: "source-head" },
      h("span", { class: "ref", text: `#${id}` }),
      review.rating != null
        ? h("span", { class: "stars", role: "img", "aria-label": t("stars", { r: rating }), text: "★".repeat(rating) + "☆".repeat(5 - rating) })
        : null,
    ),
    h("q", { class: "quote", dir: "auto", text: trimQuote(review.text) }),
  );
}

/** The disclosure (a native <details>: keyboard and screen reader support for free), or null without sources. */
export function renderSources(sources, t) {
  const { reviews, policies } = normalizeSources(sources);
  if (!reviews.length && !policies.length) return null;
  const items = [
    ...reviews.map((review) => reviewItem(review, t)),
    ...policies.map((name) =>
      h("li", { class: "source policy", part: "source", "data-policy": name }, h("span", { class: "ref", text: t("policy") }), " ", h("span", { dir: "auto", text: name })),
    ),
  ];
  return h(
    "details",
    { class: "sources", part: "sources" },
    h("summary", { part: "sources-toggle", text: summaryText(t, reviews, policies) }),
    h("ul", { "aria-label": t("sources") }, items),
  );
}
