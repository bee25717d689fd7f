// Fine-tunes: training runs and their metrics, the models with the active one marked, promote and roll back.
import { api } from "./api.js";
import { fill, h, note, table, when } from "./dom.js";
import { actionButton, guard } from "./ui.js";

export function render(panel) {
  const models = h("div", { class: "block", id: "models" });
  const runs = h("div", { class: "block", id: "runs" });
  const status = h("div", { role: "status", id: "model-status" });
  const refresh = () => {
    guard(models, "models", () => loadModels(status, refresh));
    guard(runs, "fine-tuning runs", loadRuns);
  };
  fill(panel, h("h2", {}, "Fine-tunes"),
    h("section", { "aria-labelledby": "models-title" }, h("h3", { id: "models-title" }, "Models"), status, models),
    h("section", { "aria-labelledby": "runs-title" }, h("h3", { id: "runs-title" }, "Training runs"), runs));
  refresh();
}

async function loadModels(status, refresh) {
  const data = await api("/api/v1/models");
  if (!data.items.length) return note("No fine-tuned model yet: the assistant uses its base model.");
  const activeVersion = data.active && typeof data.active === "object" ? data.active.version : data.active;
  const rows = data.items.map((m) => {
    const active = String(m.version) === String(activeVersion);
    return [
      h("span", {}, String(m.version), active ? h("strong", { class: "badge" }, " active") : null),
      `${m.backend} · ${m.base_model || ""}${m.model ? ` → ${m.model}` : ""}`,
      m.status,
      metrics(m.metrics),
      when(m.created_at),
      active ? "—" : actionButton("Promote", async () => {
        await api(`/api/v1/models/${encodeURIComponent(m.version)}/promote`, { method: "POST", body: {} });
        fill(status, note(`Model ${m.version} is now active.`));
        refresh();
      }, status, { "aria-label": `Promote model ${m.version}` }),
    ];
  });
  return [
    h("p", {}, "Active model: ", h("strong", { id: "active-model" }, activeVersion ? String(activeVersion) : "the base model"), " ",
      actionButton("Roll back", async () => {
        const result = await api("/api/v1/models/rollback", { method: "POST", body: {} });
        fill(status, note(`Rolled back${result && result.active ? ` to ${result.active.version || result.active}` : ""}.`));
        refresh();
      }, status, { class: "secondary", id: "rollback" })),
    table("Fine-tuned models, newest first", ["Version", "Model", "Status", "Metrics", "Created", "Action"], rows,
      { class: "data", id: "model-table" }),
  ];
}

async function loadRuns() {
  const data = await api("/api/v1/tuning/runs");
  const items = data.items || [];
  if (!items.length) return note("No training runs yet.");
  return table("Fine-tuning runs, newest first", ["Started", "Trigger", "Backend", "State", "Training set", "Metrics",
    "Model"], items.map((r) => [when(r.created_at), r.trigger || "—", r.backend || "—",
    `${r.state}${r.state === "running" && r.stage ? ` (${r.stage}, ${Math.round((r.progress || 0) * 100)}%)` : ""}` +
      (r.state === "failed" && r.message ? `: ${r.message}` : ""),
    r.dataset && r.dataset.examples !== undefined ? `${r.dataset.examples} examples` : "—",
    metrics(r.metrics), r.version || "—"]), { class: "data", id: "run-table" });
}

function metrics(m) {
  if (!m || typeof m !== "object") return "—";
  return Object.entries(m).filter(([, v]) => typeof v === "number" || typeof v === "string")
    .map(([k, v]) => `${k} ${typeof v === "number" ? +v.toFixed(4) : v}`).join(", ") || "—";
}
