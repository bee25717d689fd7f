// Catalog: recent syncs with their counts and row errors (downloadable as CSV), the search index, a search tryout.
import { api, download, query } from "./api.js";
import { bytes, fill, h, money, note, table, when } from "./dom.js";
import { actionButton, guard } from "./ui.js";

const COUNTS = ["received", "added", "updated", "unchanged", "deleted", "failed"];

export function render(panel) {
  const syncs = h("div", { class: "block", id: "syncs" });
  const errors = h("div", { class: "block", id: "sync-errors", tabindex: "-1" });
  const index = h("div", { class: "block", id: "index-status" });
  const results = h("div", { id: "search-results", "aria-live": "polite" });
  const input = h("input", { id: "search-q", type: "search", required: true, placeholder: "waterproof jacket under $150" });
  const form = h("form", { class: "inline", role: "search", onsubmit: (e) => { e.preventDefault(); search(input.value, results); } },
    h("label", { for: "search-q" }, "Try a query"), input, h("button", { type: "submit" }, "Search"));
  fill(panel,
    h("h2", {}, "Catalog"),
    h("section", { "aria-labelledby": "syncs-title" }, h("h3", { id: "syncs-title" }, "Last syncs"), syncs, errors),
    h("section", { "aria-labelledby": "index-title" }, h("h3", { id: "index-title" }, "Search index"), index),
    h("section", { "aria-labelledby": "try-title" }, h("h3", { id: "try-title" }, "Try a search"), form, results));
  guard(syncs, "syncs", () => loadSyncs(errors));
  guard(index, "the index status", loadIndex);
}

async function loadSyncs(errors) {
  const { items } = await api("/api/v1/jobs?limit=10");
  if (!items.length) return note("No syncs yet: upload a feed with `storebot sync` or POST /api/v1/catalog.");
  const rows = items.map((job) => [
    when(job.created_at),
    `${job.kind}${job.filename ? ` · ${job.filename}` : ""}`,
    h("span", { class: `state ${job.state}` }, job.state),
    ...COUNTS.map((c) => String(job.counts[c] ?? 0)),
    job.error_total
      ? h("button", { type: "button", class: "link", dataset: { job: job.id },
        onclick: () => guard(errors, "the row errors", () => jobErrors(job.id, errors)) },
        `${job.error_total} error${job.error_total === 1 ? "" : "s"}`)
      : "none",
  ]);
  return table("The ten most recent catalog, review and policy syncs", ["When", "Feed", "State", ...COUNTS.map(cap),
    "Row errors"], rows, { class: "data", id: "sync-table" });
}

async function jobErrors(jobId, target) {
  const job = await api(`/api/v1/jobs/${encodeURIComponent(jobId)}`);
  const status = h("p", { class: "hint", role: "status" });
  const rows = job.errors.map((e) => [`${e.unit || "line"} ${e.line}`, e.field || "—", e.record_id || "—", e.message]);
  setTimeout(() => target.focus(), 0);
  return [
    h("h4", {}, `Row errors of ${job.filename || job.kind} (${job.error_total})`),
    job.errors_truncated ? note(`Only the first ${job.errors.length} of ${job.error_total} errors were kept.`) : null,
    table("Rows the sync refused, with the reason", ["Where", "Field", "Record", "Problem"], rows,
      { class: "data", id: "error-table" }),
    h("p", {}, actionButton("Download errors as CSV", async () => {
      const name = await download(`/api/v1/jobs/${encodeURIComponent(jobId)}/errors.csv`, "errors.csv");
      fill(status, `Downloaded ${name}.`);
    }, status, { id: "download-errors" })),
    status,
  ];
}

async function loadIndex() {
  const info = await api("/api/v1/index");
  if (!info.version) return note("No index yet: it is built after the first sync (storebot index).");
  const counts = info.counts || {};
  const pending = Object.values(info.pending_changes || {}).reduce((a, b) => a + b, 0);
  return h("dl", { class: "facts", id: "index-facts" },
    h("dt", {}, "Version"), h("dd", { dataset: { field: "version" } }, String(info.version)),
    h("dt", {}, "Built"), h("dd", {}, when(info.created_at)),
    h("dt", {}, "Size on disk"), h("dd", { dataset: { field: "size" } }, `${bytes(info.size_bytes)} in ${info.files} files`),
    h("dt", {}, "Indexed"), h("dd", {}, `${counts.products ?? 0} products, ${counts.reviews ?? 0} reviews, ` +
      `${counts.policies ?? 0} policies`),
    h("dt", {}, "Embedding model"), h("dd", {}, `${info.model_id || "—"} (${info.dimension || "?"} dimensions)`),
    h("dt", {}, "Waiting to be indexed"), h("dd", {}, pending ? `${pending} changed records` : "nothing"));
}

async function search(q, target) {
  if (!q.trim()) return;
  await guard(target, "search results", async () => {
    const result = await api(`/api/v1/index/search${query({ q, limit: 10 })}`);
    const filters = Object.entries(result.filters_applied || {});
    return [
      h("p", { class: "meta", id: "search-explain" },
        `Searched for “${result.search_text || result.query}”`,
        result.sort && result.sort !== "relevance" ? `, sorted by ${result.sort}` : "",
        ` · index v${result.index_version} · ${result.items.length} results`),
      h("ul", { class: "chips", "aria-label": "Applied filters" },
        filters.length ? filters.map(([k, v]) => h("li", { class: "chip" }, `${k}: ${format(v)}`)) : h("li", {}, "no filters")),
      result.relaxed.length ? note(`Relaxed to find results: ${result.relaxed.join(", ")}`) : null,
      table("Search results with their scores", ["#", "Product", "Price", "Score", "Signals"],
        result.items.map((item, i) => [String(i + 1), item.title, money(item.sale_price || item.price, item.currency),
          Number(item.score).toFixed(4),
          Object.entries(item.signals).map(([k, v]) => `${k} ${Number(v).toFixed(3)}`).join(", ")]),
        { class: "data", id: "search-table" }),
    ];
  });
}

function format(v) {
  return Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
