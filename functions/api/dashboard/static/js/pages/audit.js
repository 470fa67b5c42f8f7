// Audit (unscoped admin): the gateway's audit log, newest first (`GET /api/audit`), filtered by action,
// severity, session, acting key and time, paged with the API's cursor ("Older") and back to the newest.

import { api } from "../api.js";
import { busy, field, h, replace, table, toast } from "../dom.js";

const PAGE_SIZE = 25;
const SEVERITIES = ["info", "warn", "error"];
// The actions the gateway writes (functions/schemas/audit.py), offered as suggestions; any may be typed.
const ACTIONS = [
  "api_key_created",
  "api_key_updated",
  "api_key_revoked",
  "api_key_deleted",
  "api_key_auth_failed",
  "session_created",
  "session_started",
  "session_stopped",
  "session_restarted",
  "session_logged_out",
  "session_force_killed",
  "session_deleted",
  "session_config_updated",
  "session_proxy_updated",
  "webhook_created",
  "webhook_updated",
  "webhook_deleted",
  "webhook_failures_redriven",
];

/** A datetime-local value (the person's local time) as ISO, or undefined when empty. */
const isoOf = (value) => (value ? new Date(value).toISOString() : undefined);

function filtersForm(ctx, onApply) {
  const action = h("input", { id: "audit-action", list: "audit-actions", autocomplete: "off", placeholder: "any" });
  const severity = h(
    "select",
    { id: "audit-severity" },
    h("option", { value: "" }, "any"),
    SEVERITIES.map((name) => h("option", { value: name }, name)),
  );
  const session = h("select", { id: "audit-session" });
  const key = h("input", { id: "audit-key", autocomplete: "off", placeholder: "any key id" });
  const since = h("input", { id: "audit-since", type: "datetime-local" });
  const until = h("input", { id: "audit-until", type: "datetime-local" });
  const form = h(
    "form",
    { class: "card form-grid", "aria-label": "Filter the audit log" },
    field("Action", action),
    h("datalist", { id: "audit-actions" }, ACTIONS.map((name) => h("option", { value: name }))),
    field("Severity", severity),
    field("Session", session),
    field("API key id", key),
    field("Since", since, "Your local time"),
    field("Until", until, "Your local time"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onApply(event.submitter);
  });
  function renderSessions() {
    const chosen = session.value;
    replace(
      session,
      h("option", { value: "" }, "any"),
      ctx.store.list().map((s) => h("option", { value: s.id, selected: s.id === chosen }, s.name)),
    );
  }
  /** The query the filters say (empty ones left out). */
  function query() {
    const values = {
      action: action.value.trim(),
      severity: severity.value,
      sessionId: session.value,
      apiKeyId: key.value.trim(),
      since: isoOf(since.value),
      until: isoOf(until.value),
    };
    return Object.fromEntries(Object.entries(values).filter(([, value]) => value));
  }
  return { form, renderSessions, query };
}

/** The entry's session by name: its own, else the one the store knows (most entries carry only the id). */
function sessionOf(ctx, entry) {
  if (!entry.sessionId) return "—";
  const known = ctx.store.get(entry.sessionId);
  return entry.sessionName || (known && known.name) || entry.sessionId;
}

function entriesTable(ctx, entries) {
  return table(
    "Audit entries",
    ["Time", "Action", "Severity", "Key", "Session", "Request", "Details"],
    entries.map((entry) => [
      new Date(entry.createdAt).toLocaleString(),
      h("code", {}, entry.action),
      h("span", { class: "badge", dataset: { severity: entry.severity } }, entry.severity),
      entry.apiKeyName || entry.apiKeyId || "—",
      sessionOf(ctx, entry),
      entry.method ? [entry.method, entry.path, entry.statusCode ?? ""].join(" ").trim() : "—",
      [entry.errorMessage, entry.metadata ? JSON.stringify(entry.metadata) : ""].filter(Boolean).join(" "),
    ]),
  );
}

export function createAuditPage(ctx) {
  const list = h("div", { class: "table-holder", "aria-live": "polite" });
  const summary = h("p", { class: "muted", role: "status", dataset: { field: "audit-total" } });
  const newest = h("button", { type: "button", class: "btn", disabled: true }, "Newest");
  const older = h("button", { type: "button", class: "btn", disabled: true }, "Older");
  const filters = filtersForm(ctx, (button) => busy(button, () => load()));
  const allowed = !ctx.principal.scoped; // the audit log is for unscoped admin keys only
  const el = h(
    "section",
    { class: "page", id: "page-audit", "aria-labelledby": "audit-title" },
    h("h1", { id: "audit-title", tabindex: "-1" }, "Audit log"),
    allowed
      ? [
          filters.form,
          h(
            "section",
            { class: "card", "aria-labelledby": "audit-list-title" },
            h("div", { class: "page-head" }, h("h2", { id: "audit-list-title" }, "Entries"), summary),
            list,
            h("div", { class: "row" }, newest, older),
          ),
        ]
      : h("p", { class: "muted" }, "The audit log needs an admin key that is not limited to some sessions."),
  );
  let shown = 0; // entries on the pages before this one

  /** A page of the log: from the newest (no cursor), or older than `cursor`. */
  async function load(cursor) {
    const params = new URLSearchParams({ ...filters.query(), limit: String(PAGE_SIZE) });
    if (cursor) params.set("cursor", cursor);
    else shown = 0;
    const page = await api.get(`/api/audit?${params}`);
    const first = shown + (page.data.length ? 1 : 0);
    if (!cursor && !page.total) summary.textContent = "0 matching";
    else if (cursor) summary.textContent = `Entries ${first}–${shown + page.data.length}`;
    else summary.textContent = `${page.total} matching; showing ${first}–${page.data.length}`;
    replace(
      list,
      page.data.length ? entriesTable(ctx, page.data) : h("p", { class: "muted" }, "No entry matches these filters."),
    );
    older.disabled = !page.nextCursor;
    older.dataset.cursor = page.nextCursor || "";
    newest.disabled = !cursor;
    shown += page.data.length;
  }

  // Not `busy`: it would restore the button's state from before the load, which set it.
  async function turn(cursor) {
    newest.disabled = older.disabled = true;
    try {
      await load(cursor);
    } catch (error) {
      toast(error.describe ? error.describe() : String(error), "error");
    }
  }
  newest.addEventListener("click", () => turn());
  older.addEventListener("click", () => turn(older.dataset.cursor));
  const unsubscribe = ctx.store.subscribe(filters.renderSessions);
  return {
    el,
    title: "Audit log",
    show() {
      if (!allowed) return;
      filters.renderSessions();
      load().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
    },
    destroy: unsubscribe,
  };
}
