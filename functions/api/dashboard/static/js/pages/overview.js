// Overview: sessions by status, messages today, queue depths, runners and their free capacity, from
// GET /api/dashboard/overview, and the traffic charts from GET /api/stats/messages (unscoped admin keys
// only, as upstream: other keys see why the charts are missing). Re-read when shown, after relevant events
// (debounced) and every 15 s while on screen.

import { api } from "../api.js";
import { barChart, legend } from "../charts.js";
import { h, replace, table, toast } from "../dom.js";

const PERIODS = [
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];
const SERIES = [
  { name: "sent", class: "series-sent" },
  { name: "received", class: "series-received" },
];

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

/** "2026-12-07 13:00:00" as "13:00" for hourly buckets, "12-07" for daily ones. */
function bucketLabel(timestamp, period) {
  return period === "24h" ? timestamp.slice(11, 16) : timestamp.slice(5, 10);
}

function renderTraffic(box, stats, period) {
  const width = Math.max(280, Math.round(box.clientWidth) || 640);
  const points = stats.timeSeries.map((point) => ({
    label: bucketLabel(point.timestamp, period),
    values: [point.sent, point.received],
  }));
  const types = Object.entries(stats.byType).sort(([, a], [, b]) => b - a);
  const most = Math.max(1, ...types.map(([, count]) => count));
  replace(
    box,
    barChart("Messages", points, SERIES, width),
    legend(SERIES),
    h(
      "div",
      { class: "grid" },
      h(
        "div",
        {},
        h("h3", {}, "By type"),
        types.length
          ? h(
              "ul",
              { class: "type-bars", "aria-label": "Messages by type" },
              types.map(([type, count]) =>
                h(
                  "li",
                  { dataset: { type } },
                  h("span", { class: "type-name" }, type),
                  h("meter", { min: "0", max: String(most), value: String(count), "aria-label": type }),
                  h("span", { class: "type-count" }, String(count)),
                ),
              ),
            )
          : h("p", { class: "muted" }, "No messages in this period."),
      ),
      h(
        "div",
        {},
        h("h3", {}, "Top chats"),
        stats.topChats.length
          ? table(
              "Top chats",
              ["Chat", "Messages"],
              stats.topChats.map((chat) => [chat.chatName || chat.chatId, String(chat.messageCount)]),
            )
          : h("p", { class: "muted" }, "No chats in this period."),
      ),
    ),
  );
}

function createTraffic() {
  let period = "24h";
  let shown = null; // the last answer, redrawn at the new width when the window is resized
  let resizing = null;
  const chartBox = h("div", { class: "traffic-body", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const select = h(
    "select",
    {
      id: "traffic-period",
      onchange: (event) => {
        period = event.target.value;
        refresh();
      },
    },
    PERIODS.map(([value, label]) => h("option", { value, selected: value === period }, label)),
  );
  const el = h(
    "section",
    { class: "card traffic", "aria-labelledby": "traffic-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "traffic-title" }, "Traffic"),
      h("label", { for: "traffic-period", class: "sr-only" }, "Period"),
      select,
    ),
    chartBox,
  );

  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => shown && renderTraffic(chartBox, shown, period), 200);
  });

  async function refresh() {
    try {
      shown = await api.get(`/api/stats/messages?period=${period}`);
      renderTraffic(chartBox, shown, period);
    } catch (error) {
      if (error.status === 403) {
        replace(chartBox, h("p", { class: "muted" }, "Traffic charts need an admin key that is not limited to sessions."));
      } else {
        replace(chartBox, h("p", { class: "muted" }, `Traffic unavailable: ${error.describe ? error.describe() : error}`));
      }
    }
  }

  return { el, refresh };
}

export function createOverviewPage() {
  const body = h(
    "div",
    { class: "page-body", "aria-live": "polite" },
    h("p", { class: "muted" }, "Loading…"),
  );
  const traffic = createTraffic();
  const el = h(
    "section",
    { class: "page", id: "page-overview", "aria-labelledby": "overview-title" },
    h("h1", { id: "overview-title", tabindex: "-1" }, "Overview"),
    body,
    traffic.el,
  );
  let timer = null;
  let debounce = null;
  let visible = false;

  async function refresh() {
    traffic.refresh();
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
