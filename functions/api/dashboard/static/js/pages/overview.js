// Overview: sessions by status, messages today, queue depths, runners and their free capacity, from
// GET /api/dashboard/overview. Re-read when shown, after relevant events (debounced) and every 15 s
// while on screen.

import { api } from "../api.js";
import { h, replace, table, toast } from "../dom.js";

const REFRESH_MS = 15000;
const EVENT_DEBOUNCE_MS = 1000;
const COUNTED_EVENTS = new Set(["session.status", "message.sent", "message.received"]);

function stat(name, label, value) {
  return h(
    "div",
    { class: "stat", dataset: { stat: name } },
    h("span", { class: "stat-value" }, String(value)),
    h("span", { class: "stat-label" }, label),
  );
}

function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

function render(body, data) {
  const statuses = Object.entries(data.sessions.byStatus).filter(([, count]) => count > 0);
  const runners = data.runners;
  replace(
    body,
    h(
      "div",
      { class: "grid" },
      card(
        "Sessions",
        h("div", { class: "stats" }, stat("sessions-total", "total", data.sessions.total)),
        statuses.length
          ? h(
              "ul",
              { class: "chips", "aria-label": "Sessions by status" },
              statuses.map(([status, count]) =>
                h("li", { class: "badge", dataset: { status } }, `${status.replace("_", " ")}: ${count}`),
              ),
            )
          : h("p", { class: "muted" }, "No sessions yet."),
      ),
      card(
        `Messages today (UTC ${data.messages.day})`,
        h(
          "div",
          { class: "stats" },
          stat("messages-sent", "sent", data.messages.sent),
          stat("messages-received", "received", data.messages.received),
        ),
      ),
      card(
        "Queues (jobs waiting)",
        h(
          "div",
          { class: "stats" },
          stat("queue-sessions", "session commands", data.queues.sessions),
          stat("queue-webhooks", "webhook deliveries", data.queues.webhooks),
          stat("queue-default", "other jobs", data.queues.default),
        ),
      ),
      card(
        "Runners",
        h(
          "div",
          { class: "stats" },
          stat("runners", "live", runners.count),
          stat("runners-free", "free slots", runners.free),
          stat("runners-capacity", "capacity", runners.capacity),
        ),
        runners.items.length
          ? table(
              "Live runners",
              ["Runner", "Host", "Sessions", "Free"],
              runners.items.map((runner) => [
                runner.id,
                runner.host || "—",
                `${runner.sessions} / ${runner.maxSessions}`,
                String(runner.free),
              ]),
            )
          : h("p", { class: "muted" }, "No runner is alive: sessions cannot start."),
      ),
    ),
    h("p", { class: "muted small" }, `Updated ${new Date(data.generatedAt).toLocaleTimeString()}`),
  );
}

export function createOverviewPage() {
  const body = h(
    "div",
    { class: "page-body", "aria-live": "polite" },
    h("p", { class: "muted" }, "Loading…"),
  );
  const el = h(
    "section",
    { class: "page", id: "page-overview", "aria-labelledby": "overview-title" },
    h("h1", { id: "overview-title", tabindex: "-1" }, "Overview"),
    body,
  );
  let timer = null;
  let debounce = null;
  let visible = false;

  async function refresh() {
    try {
      render(body, await api.get("/api/dashboard/overview"));
    } catch (error) {
      toast(`Overview: ${error.describe ? error.describe() : error}`, "error");
    }
  }

  return {
    el,
    title: "Overview",
    show() {
      visible = true;
      refresh();
      clearInterval(timer);
      timer = setInterval(refresh, REFRESH_MS);
    },
    hide() {
      visible = false;
      clearInterval(timer);
    },
    onEvent(frame) {
      if (!visible || !COUNTED_EVENTS.has(frame.event)) return;
      clearTimeout(debounce);
      debounce = setTimeout(refresh, EVENT_DEBOUNCE_MS);
    },
    destroy() {
      clearInterval(timer);
      clearTimeout(debounce);
    },
  };
}
