// Reviews: rating and sentiment over time for a product (and an aspect) as Chart.js charts, the products whose
// reviews are falling, and the top complaints with the reviews behind them.
import { api, ApiError, query } from "./api.js";
import { fill, h, note, table } from "./dom.js";
import { lineChart } from "./charts.js";
import { guard, productPicker } from "./ui.js";

export function render(panel, store) {
  const controls = h("div", { class: "controls", id: "review-controls" });
  const ratingBox = h("div", { class: "chart-box" });
  const sentimentBox = h("div", { class: "chart-box" });
  const insights = h("div", { class: "block", id: "insights" });
  fill(panel,
    h("h2", {}, "Reviews"),
    controls,
    h("div", { class: "cols" },
      h("section", { "aria-labelledby": "rating-title" }, h("h3", { id: "rating-title" }, "Average rating by month"), ratingBox),
      h("section", { "aria-labelledby": "sentiment-title" }, h("h3", { id: "sentiment-title" }, "Review sentiment over time"), sentimentBox)),
    h("section", { "aria-labelledby": "insights-title" }, h("h3", { id: "insights-title" }, "Falling products and top complaints"), insights));
  const state = { product: "", aspect: "", interval: "month" };
  const redraw = () => {
    guard(ratingBox, "the rating chart", () => ratingChart(state.product));
    guard(sentimentBox, "review sentiment", () => sentimentChart(state));
  };
  guard(controls, "products", async () => {
    const picker = await productPicker("review-product", "Product", (id) => { state.product = id; state.aspect = "";
      aspects(state, aspectSelect, redraw); });
    state.product = picker.select.value;
    const aspectSelect = h("select", { id: "review-aspect", onchange: () => { state.aspect = aspectSelect.value; redraw(); } },
      h("option", { value: "" }, "All aspects"));
    const interval = h("select", { id: "review-interval", onchange: () => { state.interval = interval.value; redraw(); } },
      h("option", { value: "month" }, "Month"), h("option", { value: "week" }, "Week"));
    aspects(state, aspectSelect, redraw);
    return [picker.element, h("div", { class: "field" }, h("label", { for: "review-aspect" }, "Aspect"), aspectSelect),
      h("div", { class: "field" }, h("label", { for: "review-interval" }, "Sentiment by"), interval)];
  });
  guard(insights, "review insights", () => loadInsights(store));
}

async function aspects(state, select, redraw) {
  fill(select, h("option", { value: "" }, "All aspects"));
  try {
    const summary = await api(`/api/v1/products/${encodeURIComponent(state.product)}/reviews/summary`);
    for (const a of summary.aspects || []) select.append(h("option", { value: a.aspect }, `${a.label} (${a.mentions})`));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err; // no summary yet: the charts still work without aspects
  }
  redraw();
}

async function ratingChart(productId) {
  const { items } = await api(`/api/v1/products/${encodeURIComponent(productId)}/reviews`);
  const months = new Map();
  for (const r of items) {
    if (!r.date || !r.rating) continue;
    const m = r.date.slice(0, 7);
    const agg = months.get(m) || { sum: 0, n: 0 };
    agg.sum += r.rating;
    agg.n += 1;
    months.set(m, agg);
  }
  const labels = [...months.keys()].sort();
  if (!labels.length) return note("This product has no dated reviews yet.");
  const means = labels.map((m) => +(months.get(m).sum / months.get(m).n).toFixed(2));
  const counts = labels.map((m) => months.get(m).n);
  return chartFigure("rating-chart", `Average star rating per month over ${labels.length} months (${items.length} reviews)`,
    (canvas) => lineChart(canvas, labels, [{ label: "Average rating (1–5)", data: means }], { yMin: 1, yMax: 5, yTitle: "stars" }),
    ["Month", "Average rating", "Reviews"], labels.map((m, i) => [m, String(means[i]), String(counts[i])]));
}

async function sentimentChart(state) {
  const data = await api(`/api/v1/insights/sentiment${query({ product: state.product, aspect: state.aspect, interval: state.interval })}`);
  const points = data.points || [];
  if (!points.length) return note("No analysed reviews for this product and aspect yet (the review analysis runs after a review sync).");
  const labels = points.map((p) => p.period);
  const share = (p, k) => (p.reviews ? +(p[k] / p.reviews).toFixed(3) : 0);
  return chartFigure("sentiment-chart", `Sentiment of ${state.aspect || "all"} reviews per ${data.interval}, ${points.length} periods`,
    (canvas) => lineChart(canvas, labels, [
      { label: "Mean sentiment (−1 to 1)", data: points.map((p) => p.mean_score) },
      { label: "Share negative", data: points.map((p) => share(p, "negative")) },
    ], { yMin: -1, yMax: 1 }),
    ["Period", "Reviews", "Positive", "Negative", "Mixed", "Mean score"],
    points.map((p) => [p.period, p.reviews, p.positive, p.negative, p.mixed, p.mean_score].map(String)));
}

/** A chart with an accessible name and its numbers as a table for people who cannot see the canvas. */
function chartFigure(id, caption, draw, headers, rows) {
  const canvas = h("canvas", { id, role: "img", "aria-label": caption });
  const figure = h("figure", { class: "chart" }, h("div", { class: "canvas-wrap" }, canvas), h("figcaption", {}, caption),
    h("details", {}, h("summary", {}, "Show the numbers"), table(caption, headers, rows, { class: "data" })));
  requestAnimationFrame(() => draw(canvas)); // after the figure is in the page, so Chart.js can measure it
  return figure;
}

async function loadInsights(store) {
  const data = await api("/api/v1/insights");
  if (data.state === "not_analyzed") return note("The review analysis has not run yet: it runs after a review sync.");
  const complaints = h("ul", { class: "complaints", id: "complaints" });
  for (const c of data.complaints || []) {
    const reviews = h("div", { class: "complaint-reviews" });
    complaints.append(h("li", {},
      h("strong", {}, c.label || c.aspect), ` · ${c.mentions} mentions in ${c.product_ids.length} products `,
      h("button", { type: "button", class: "link", "aria-expanded": "false", onclick: (e) => {
        const open = e.target.getAttribute("aria-expanded") !== "true";
        e.target.setAttribute("aria-expanded", String(open));
        reviews.hidden = !open;
        if (open && !reviews.dataset.state) guard(reviews, "the reviews", () => reviewsBehind(c, store));
      } }, "Show the reviews"), reviews));
  }
  return [
    data.falling && data.falling.length
      ? table("Products whose recent reviews score lower than before", ["Product", "Recent", "Before", "Change", "Recent reviews"],
        data.falling.map((f) => [f.title, fmt(f.recent_score), fmt(f.previous_score), fmt(f.delta), String(f.recent_reviews)]),
        { class: "data", id: "falling" })
      : note("No product's reviews are falling."),
    h("h4", {}, "Top complaints"),
    complaints.childNodes.length ? complaints : note("No complaints stand out."),
  ];
}

async function reviewsBehind(complaint, store) {
  const ids = complaint.review_ids.slice(0, 10);
  const found = await Promise.all(ids.map((id) => api(`/api/v1/reviews/${encodeURIComponent(id)}`).then((d) => d.review, () => null)));
  const reviews = found.filter(Boolean);
  if (!reviews.length) return note("Those reviews are no longer in the catalog.");
  return h("ul", { class: "review-list", "aria-label": `Reviews mentioning ${complaint.label || complaint.aspect}` },
    reviews.map((r) => h("li", { dataset: { review: r.id } },
      h("a", { href: `/shop/${encodeURIComponent(store.id)}/products/${encodeURIComponent(r.product_id)}` }, `Product ${r.product_id}`),
      ` · ${"★".repeat(r.rating || 0)} ${r.title || ""} · ${r.date || ""}`, h("p", {}, r.body))),
    complaint.review_ids.length > ids.length ? h("li", { class: "meta" }, `…and ${complaint.review_ids.length - ids.length} more`) : null);
}

function fmt(x) {
  return typeof x === "number" ? x.toFixed(2) : String(x ?? "—");
}
