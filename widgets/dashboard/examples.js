// The fine-tuning review queue: pending examples (from shopper feedback and handoffs) to approve into the training
// set or reject, with the training set's size beside it.
import { api, query } from "./api.js";
import { fill, h, note, when } from "./dom.js";
import { actionButton, guard } from "./ui.js";

export function render(target) {
  const dataset = h("div", { id: "training-set", "aria-live": "polite" });
  const pending = h("div", { id: "pending-examples" });
  const approved = h("div", { id: "approved-examples" });
  const status = h("div", { role: "status" });
  fill(target,
    h("div", { class: "cols wide-left" },
      h("div", {}, h("h4", {}, "Waiting for review"), status, pending),
      h("div", {}, h("h4", {}, "Training set"), dataset, h("h4", {}, "Approved examples"), approved)));
  const refresh = () => {
    guard(dataset, "the training set", loadDataset);
    guard(approved, "approved examples", () => list("approved", null));
  };
  guard(pending, "fine-tuning examples", () => list("pending", { status, refresh }));
  refresh();
}

async function loadDataset() {
  const data = await api("/api/v1/tuning/dataset");
  const scalars = Object.entries(data).filter(([, v]) => v === null || typeof v !== "object");
  const nested = Object.entries(data).filter(([, v]) => v && typeof v === "object" && !Array.isArray(v))
    .map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === "number"))])
    .filter(([, v]) => Object.keys(v).length);
  return h("dl", { class: "facts", id: "dataset-facts" },
    scalars.map(([k, v]) => [h("dt", {}, label(k)), h("dd", { dataset: { field: k } }, String(v))]),
    nested.map(([k, v]) => [h("dt", {}, label(k)),
      h("dd", { dataset: { field: k } }, Object.entries(v).map(([a, b]) => `${a} ${b}`).join(", "))]));
}

async function list(status, actions) {
  const data = await api(`/api/v1/tuning/examples${query({ status, limit: 20 })}`);
  if (!data.items.length) {
    return note(status === "pending" ? "No examples are waiting for review." : "No approved examples yet.");
  }
  const ul = h("ul", { class: "examples", "aria-label": status === "pending" ? "Examples waiting for review" : "Approved examples" });
  for (const ex of data.items) ul.append(example(ex, actions));
  return ul;
}

function example(ex, actions) {
  const li = h("li", { class: "example", dataset: { example: ex.id } },
    h("p", { class: "meta" }, `${ex.source || "example"} · ${when(ex.created_at)}`),
    h("dl", { class: "turns" }, (ex.messages || []).filter((m) => m.role !== "system")
      .map((m) => [h("dt", {}, m.role === "user" ? "Shopper" : m.role === "assistant" ? "Answer" : m.role), h("dd", {}, m.content)])));
  if (actions) {
    const first = (ex.messages || []).find((m) => m.role === "user");
    const what = first ? `“${first.content.slice(0, 40)}”` : ex.id;
    const decide = (verb) => actionButton(verb === "approve" ? "Approve" : "Reject", async () => {
      await api(`/api/v1/tuning/examples/${encodeURIComponent(ex.id)}/${verb}`, { method: "POST", body: {} });
      const next = li.nextElementSibling || li.previousElementSibling;
      const list = li.parentElement;
      li.remove();
      if (list && !list.children.length) list.replaceWith(note("No examples are waiting for review."));
      fill(actions.status, note(verb === "approve" ? `Approved ${what}: it is in the training set.` : `Rejected ${what}.`));
      (next ? next.querySelector("button") : null)?.focus();
      actions.refresh();
    }, actions.status, { class: verb === "approve" ? "approve" : "secondary reject", "aria-label": `${verb === "approve" ? "Approve" : "Reject"} ${what}` });
    li.append(h("div", { class: "actions" }, decide("approve"), decide("reject")));
  }
  return li;
}

function label(key) {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
