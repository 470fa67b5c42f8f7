// Webhooks: list, create, edit, enable/disable, delete and test them; the delivery answers of the tests
// run from here; and (admin) the dead letters with each one's attempt log and a redrive.

import { api, seg } from "../api.js";
import { ago, busy, confirmAction, field, h, replace, table, toast } from "../dom.js";
import { EVENT_NAMES, WILDCARD } from "../events.js";

const MAX_TESTS_SHOWN = 5;
const DELIVERY_LOG_SHOWN = 20;

const orDash = (value, render = String) => (value === null || value === undefined ? "—" : render(value));

/** Attempts (`{attempt, at, statusCode, latencyMs, error}`, with `event` when `withEvent`) as a table. */
function attemptsTable(caption, attempts, withEvent = false) {
  return table(
    caption,
    [...(withEvent ? ["Event"] : []), "#", "At", "Status", "Latency", "Error"],
    attempts.map((a) => [
      ...(withEvent ? [a.event] : []),
      String(a.attempt),
      new Date(a.at).toLocaleString(),
      orDash(a.statusCode),
      orDash(a.latencyMs, (ms) => `${Math.round(ms)} ms`),
      a.error || "",
    ]),
  );
}

/** A webhook's delivery log: its last attempts (deliveries and tests), loaded each time it is opened. */
function deliveryLog(path, url) {
  const body = h("div", {});
  const el = h("details", { class: "delivery-log" }, h("summary", {}, "Delivery log"), body);
  el.addEventListener("toggle", async () => {
    if (!el.open) return;
    replace(body, h("p", { class: "muted small" }, "Loading…"));
    try {
      const attempts = await api.get(`${path}/deliveries?limit=${DELIVERY_LOG_SHOWN}`);
      replace(
        body,
        attempts.length
          ? attemptsTable(`Last delivery attempts to ${url}`, attempts, true)
          : h("p", { class: "muted small" }, "No delivery attempted yet."),
      );
    } catch (error) {
      replace(body, h("p", { class: "alert alert-error" }, error.describe ? error.describe() : String(error)));
    }
  });
  return el;
}

/** Checkboxes for the subscribed events; `value()` is the chosen names (the wildcard alone if ticked). */
function eventsPicker(prefix, selected) {
  const boxes = [WILDCARD, ...EVENT_NAMES].map((name) => {
    const box = h("input", {
      type: "checkbox",
      id: `${prefix}-${name}`,
      value: name,
      checked: selected.includes(name),
    });
    return h(
      "label",
      { class: "check", for: box.id },
      box,
      name === WILDCARD ? " * (every event)" : ` ${name}`,
    );
  });
  const el = h(
    "details",
    { class: "events-picker" },
    h("summary", {}, `Events (${selected.join(", ")})`),
    h("fieldset", { class: "checks" }, h("legend", { class: "sr-only" }, "Events"), boxes),
  );
  const value = () => {
    const chosen = [...el.querySelectorAll("input:checked")].map((box) => box.value);
    return chosen.includes(WILDCARD) ? [WILDCARD] : chosen;
  };
  const summarize = () => {
    el.querySelector("summary").textContent = `Events (${value().join(", ") || "none"})`;
  };
  el.addEventListener("change", summarize);
  /** Back to the events it started with. */
  const reset = () => {
    el.querySelectorAll("input").forEach((box) => {
      box.checked = selected.includes(box.value);
    });
    summarize();
  };
  return { el, value, reset };
}

function createForm(ctx, onCreated) {
  const session = h("select", { id: "hook-session", required: true });
  const url = h("input", {
    id: "hook-url",
    type: "url",
    required: true,
    placeholder: "https://example.com/hook",
  });
  const secret = h("input", {
    id: "hook-secret",
    type: "password",
    minlength: "16",
    maxlength: "255",
    autocomplete: "off",
  });
  const retries = h("input", { id: "hook-retries", type: "number", min: "0", max: "5", value: "3" });
  const events = eventsPicker("hook-new", ["message.received"]);
  const form = h(
    "form",
    { class: "card stack form-grid", "aria-label": "Create a webhook" },
    h("h2", {}, "New webhook"),
    field("Session", session),
    field("URL", url, "Where deliveries are POSTed (public http(s), unless allowed by SSRF_ALLOWED_HOSTS)"),
    events.el,
    field("Secret (optional)", secret, "16–255 characters; signs every delivery"),
    field("Attempts", retries, "0–5; 0 and 1 mean a single attempt"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create webhook")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const body = { url: url.value.trim(), events: events.value(), retryCount: Number(retries.value || 0) };
      if (secret.value) body.secret = secret.value;
      await api.post(`/api/sessions/${seg(session.value)}/webhooks`, body);
      toast("Webhook created");
      url.value = "";
      secret.value = "";
      retries.value = "3";
      events.reset();
      onCreated();
    });
  });
  function renderSessions() {
    const chosen = session.value;
    replace(
      session,
      ctx.store
        .list()
        .map((s) => h("option", { value: s.id, selected: s.id === chosen }, `${s.name} (${s.status})`)),
    );
  }
  return { form, renderSessions };
}

function editForm(hook, onDone) {
  const url = h("input", { id: `edit-url-${hook.id}`, type: "url", required: true, value: hook.url });
  const retries = h("input", {
    id: `edit-retries-${hook.id}`,
    type: "number",
    min: "0",
    max: "5",
    value: String(hook.retryCount),
  });
  const secret = h("input", { id: `edit-secret-${hook.id}`, type: "password", autocomplete: "off" });
  const events = eventsPicker(`edit-${hook.id}`, hook.events);
  const cancel = h("button", { type: "button", class: "btn btn-quiet" }, "Cancel");
  cancel.addEventListener("click", () => onDone(false));
  const form = h(
    "form",
    { class: "stack", "aria-label": `Edit webhook ${hook.url}` },
    field("URL", url),
    events.el,
    field("Attempts", retries),
    field("New secret", secret, "Leave empty to keep the current one"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Save"), cancel),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const body = { url: url.value.trim(), events: events.value(), retryCount: Number(retries.value || 0) };
      if (secret.value) body.secret = secret.value;
      await api.put(`/api/sessions/${seg(hook.sessionId)}/webhooks/${seg(hook.id)}`, body);
      toast("Webhook saved");
      onDone(true);
    });
  });
  return form;
}

function hookCard(ctx, hook, tests, reload) {
  const session = ctx.store.get(hook.sessionId);
  const testsList = h(
    "ul",
    { class: "tests", "aria-label": "Recent test deliveries" },
    (tests.get(hook.id) || []).map((t) =>
      h(
        "li",
        { class: t.success ? "ok" : "error" },
        `${t.at.toLocaleTimeString()} · `,
        t.success ? `delivered, HTTP ${t.statusCode}` : `failed: ${t.error || `HTTP ${t.statusCode}`}`,
      ),
    ),
  );
  const body = h("div", { class: "stack" });
  const card = h("article", { class: "card webhook", dataset: { webhookId: hook.id } }, body);
  const path = `/api/sessions/${seg(hook.sessionId)}/webhooks/${seg(hook.id)}`;

  const button = (label, onClick, cls = "btn") => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", () => onClick(b));
    return b;
  };
  const test = button("Send test", (b) =>
    busy(b, async () => {
      const answer = await api.post(`${path}/test`);
      const list = [{ ...answer, at: new Date() }, ...(tests.get(hook.id) || [])].slice(0, MAX_TESTS_SHOWN);
      tests.set(hook.id, list);
      toast(
        answer.success ? `Test delivered (HTTP ${answer.statusCode})` : "Test delivery failed",
        answer.success ? "info" : "error",
      );
      reload();
    }),
  );
  const toggle = button(hook.active ? "Disable" : "Enable", (b) =>
    busy(b, async () => {
      await api.put(path, { active: !hook.active });
      reload();
    }),
  );
  const edit = button("Edit", () =>
    replace(
      body,
      editForm(hook, (changed) => (changed ? reload() : show())),
    ),
  );
  const remove = button(
    "Delete",
    async (b) => {
      if (
        !(await confirmAction(`Delete the webhook to ${hook.url}? Queued deliveries are dropped.`, "Delete"))
      )
        return;
      await busy(b, async () => {
        await api.del(path);
        toast("Webhook deleted");
        reload();
      });
    },
    "btn btn-danger",
  );

  function show() {
    replace(
      body,
      h(
        "header",
        { class: "card-head" },
        h("h2", { class: "card-title url" }, hook.url),
        h(
          "span",
          { class: "badge", dataset: { status: hook.active ? "ready" : "disconnected" } },
          hook.active ? "active" : "disabled",
        ),
      ),
      h(
        "dl",
        { class: "details" },
        h("dt", {}, "Session"),
        h("dd", {}, session ? session.name : hook.sessionId),
        h("dt", {}, "Events"),
        h("dd", {}, hook.events.join(", ")),
        h("dt", {}, "Attempts"),
        h("dd", {}, String(hook.retryCount)),
        h("dt", {}, "Last triggered"),
        h("dd", {}, ago(hook.lastTriggeredAt)),
      ),
      testsList.children.length ? [h("h3", {}, "Recent tests"), testsList] : null,
      ctx.canOperate ? deliveryLog(path, hook.url) : null,
      ctx.canOperate ? h("div", { class: "row actions" }, test, edit, toggle, remove) : null,
    );
  }
  show();
  return card;
}

function deadLetters(ctx) {
  const body = h("div", { class: "stack" });
  const refresh = h("button", { type: "button", class: "btn btn-quiet" }, "Refresh");
  const redriveAll = h("button", { type: "button", class: "btn" }, "Redrive all");
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "dead-title" },
    h(
      "div",
      { class: "page-head" },
      h("h2", { id: "dead-title" }, "Dead letters"),
      h("div", { class: "row" }, refresh, redriveAll),
    ),
    body,
  );
  async function redrive(button, payload) {
    await busy(button, async () => {
      const result = await api.post("/api/webhooks/delivery-failures/redrive", payload);
      toast(`Redriven: ${result.redriven} (queued ${result.enqueued}, skipped ${result.skipped})`);
      await load();
    });
  }
  async function attempts(row, holder, button) {
    await busy(button, async () => {
      const delivery = await api.get(`/api/webhooks/deliveries/${seg(row.deliveryId || row.id)}`);
      replace(holder, attemptsTable(`Attempts of delivery ${delivery.id}`, delivery.attemptLog));
    });
  }
  async function load() {
    const rows = await api.get("/api/webhooks/delivery-failures?limit=50");
    if (!rows.length) {
      replace(
        body,
        h("p", { class: "muted" }, "No dead letters: every delivery got through or is still retrying."),
      );
      return;
    }
    replace(
      body,
      rows.map((row) => {
        const holder = h("div", {});
        const showAttempts = h("button", { type: "button", class: "btn btn-quiet" }, "Attempts");
        showAttempts.addEventListener("click", () => attempts(row, holder, showAttempts));
        const again = h("button", { type: "button", class: "btn", disabled: !row.replayable }, "Redrive");
        again.addEventListener("click", () => redrive(again, { ids: [row.id] }));
        return h(
          "article",
          { class: "dead-letter" },
          h("p", {}, h("strong", {}, row.event), ` → ${row.url}`),
          h(
            "p",
            { class: "muted small" },
            [
              new Date(row.createdAt).toLocaleString(),
              `${row.attempts} attempt${row.attempts === 1 ? "" : "s"}`,
              `last ${row.lastStatusCode ?? "no answer"}`,
              row.lastError,
            ].join(" · "),
          ),
          h("div", { class: "row" }, showAttempts, again),
          holder,
        );
      }),
    );
  }
  refresh.addEventListener("click", () => busy(refresh, load));
  redriveAll.addEventListener("click", async () => {
    if (
      await confirmAction("Redrive every replayable dead letter (up to 100) as new deliveries?", "Redrive")
    ) {
      await redrive(redriveAll, {});
    }
  });
  return { el, load };
}

export function createWebhooksPage(ctx) {
  const list = h("div", { class: "grid", "aria-live": "polite" });
  const tests = new Map(); // webhook id -> its recent test answers (newest first)
  const creator = createForm(ctx, () => load());
  const dead = ctx.isAdmin ? deadLetters(ctx) : null;
  const el = h(
    "section",
    { class: "page", id: "page-webhooks", "aria-labelledby": "webhooks-title" },
    h("h1", { id: "webhooks-title", tabindex: "-1" }, "Webhooks"),
    ctx.canOperate ? creator.form : null,
    h("h2", {}, "Configured webhooks"),
    list,
    dead ? dead.el : h("p", { class: "muted" }, "Dead letters and redrive need an admin key."),
  );

  async function load() {
    if (!ctx.canOperate) {
      replace(list, h("p", { class: "muted" }, "Listing webhooks needs an operator key."));
      return;
    }
    try {
      const hooks = await api.get("/api/webhooks?limit=1000");
      replace(
        list,
        hooks.length
          ? hooks.map((hook) => hookCard(ctx, hook, tests, load))
          : h("p", { class: "muted" }, "No webhooks yet."),
      );
    } catch (error) {
      toast(error.describe ? error.describe() : String(error), "error");
    }
  }

  const unsubscribe = ctx.store.subscribe(creator.renderSessions);
  return {
    el,
    title: "Webhooks",
    show() {
      creator.renderSessions();
      load();
      if (dead)
        dead.load().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
    },
    destroy: unsubscribe,
  };
}
