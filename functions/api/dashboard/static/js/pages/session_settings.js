// A session card's "Settings" panel: its tunables (`/api/sessions/{id}/config`: reconnect attempts and delay,
// auto-reject calls) and, for an unscoped admin, its outbound proxy (`/api/sessions/{id}/proxy`, read masked).
// Both apply at the session's next start, and the panel says so. Loaded when first opened.

import { api, seg } from "../api.js";
import { busy, field, h, replace, toast } from "../dom.js";

/** The number typed in `input`, or null when it is empty (PATCH null resets the tunable to its default). */
function numberOrNull(input) {
  const text = input.value.trim();
  return text === "" ? null : Number(text);
}

/** A whole-number input in [min, max], empty for null; read-only without an operator key. */
function numberInput(ctx, id, [min, max], value) {
  return h("input", {
    id,
    type: "number",
    min: String(min),
    max: String(max),
    inputmode: "numeric",
    value: value === null ? "" : String(value),
    disabled: !ctx.canOperate,
  });
}

function configForm(ctx, id, config, onSaved) {
  const attempts = numberInput(ctx, `cfg-attempts-${id}`, [0, 20], config.maxReconnectAttempts);
  const delay = numberInput(ctx, `cfg-delay-${id}`, [1000, 300000], config.reconnectBaseDelay);
  const reject = h("input", {
    id: `cfg-reject-${id}`,
    type: "checkbox",
    checked: config.autoRejectCalls,
    disabled: !ctx.canOperate,
  });
  const form = h(
    "form",
    { class: "stack", "aria-label": "Session tunables" },
    field("Reconnect attempts", attempts, "0–20; empty for unlimited"),
    field("Reconnect base delay (ms)", delay, "1000–300000; doubles on each retry"),
    h("label", { class: "check", for: reject.id }, reject, " Reject incoming calls"),
    ctx.canOperate
      ? h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Save settings"))
      : h("p", { class: "muted small" }, "Changing settings needs an operator key."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const saved = await api.patch(`/api/sessions/${seg(id)}/config`, {
        maxReconnectAttempts: numberOrNull(attempts),
        reconnectBaseDelay: numberOrNull(delay),
        autoRejectCalls: reject.checked,
      });
      toast("Settings saved; they apply at the next start");
      onSaved(saved);
    });
  });
  return form;
}

function proxyForm(id, proxy, onSaved) {
  const current = proxy.enabled
    ? h("code", { dataset: { field: "proxy" } }, proxy.proxyUrl || proxy.proxyHost)
    : h("span", { dataset: { field: "proxy" } }, "none");
  const url = h("input", {
    id: `proxy-url-${id}`,
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "http://user:password@proxy.example.com:3128",
    required: true,
  });
  const save = h("button", { type: "submit", class: "btn" }, "Set proxy");
  const clear = h("button", { type: "button", class: "btn btn-danger-quiet", disabled: !proxy.enabled }, "Clear proxy");
  async function send(button, proxyUrl, done) {
    await busy(button, async () => {
      onSaved(await api.patch(`/api/sessions/${seg(id)}/proxy`, { proxyUrl }));
      toast(done);
    });
  }
  clear.addEventListener("click", () => send(clear, null, "Proxy cleared; applies at the next start"));
  const form = h(
    "form",
    { class: "stack", "aria-label": "Session proxy" },
    h("p", {}, "Proxy: ", current, proxy.error ? h("span", { class: "alert alert-error" }, ` ${proxy.error}`) : null),
    field("New proxy URL", url, "http, https, socks4 or socks5; the password is never shown again"),
    h("div", { class: "row" }, save, clear),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(event.submitter || save, url.value.trim(), "Proxy set; applies at the next start");
  });
  return form;
}

/** The panel: a <details> that loads the session's settings the first time it is opened. */
export function settingsPanel(ctx, id) {
  const body = h("div", { class: "stack" }, h("p", { class: "muted small" }, "Loading…"));
  const el = h(
    "details",
    { class: "settings-panel", dataset: { panel: "settings" } },
    h("summary", {}, "Settings"),
    body,
  );
  const mayProxy = ctx.isAdmin && !ctx.principal.scoped; // the proxy routes are for unscoped admins only
  let config = null;
  let proxy = null;

  function render() {
    replace(
      body,
      h("p", { class: "muted small" }, "Changes apply at the session's next start (Restart to apply now)."),
      configForm(ctx, id, config, (saved) => {
        config = saved;
        render();
      }),
      proxy
        ? proxyForm(id, proxy, (saved) => {
            proxy = saved;
            render();
          })
        : null,
    );
  }

  async function load() {
    try {
      [config, proxy] = await Promise.all([
        api.get(`/api/sessions/${seg(id)}/config`),
        mayProxy ? api.get(`/api/sessions/${seg(id)}/proxy`) : null,
      ]);
      render();
    } catch (error) {
      replace(body, h("p", { class: "alert alert-error" }, error.describe ? error.describe() : String(error)));
    }
  }

  el.addEventListener("toggle", () => {
    if (el.open) load();
  });
  return el;
}
