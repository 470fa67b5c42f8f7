// API keys (admin): list, create (the plaintext is shown once, with a copy button), revoke and delete.

import { api, seg } from "../api.js";
import { ago, busy, confirmAction, field, h, replace, table, toast } from "../dom.js";

const ROLES = ["viewer", "operator", "admin"];

const csv = (value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.select(); // no clipboard permission (plain http on another host): leave it selected to copy by hand
    document.execCommand("copy");
  }
}

/** The just-created key: shown once, copyable, gone when dismissed. */
function createdPanel(created, onDismiss) {
  const value = h("input", {
    id: "created-key",
    class: "mono",
    readonly: true,
    value: created.apiKey,
    "aria-describedby": "created-key-note",
  });
  const copyButton = h("button", { type: "button", class: "btn btn-primary" }, "Copy");
  copyButton.addEventListener("click", async () => {
    await copy(created.apiKey, value);
    copyButton.textContent = "Copied";
    toast("Key copied to the clipboard");
  });
  const dismiss = h("button", { type: "button", class: "btn btn-quiet" }, "I have stored it");
  dismiss.addEventListener("click", onDismiss);
  return h(
    "section",
    { class: "card created-key", role: "region", "aria-labelledby": "created-key-title" },
    h("h2", { id: "created-key-title" }, `Key “${created.name}” created (${created.role})`),
    h(
      "p",
      { id: "created-key-note", class: "alert" },
      "Copy it now: this is the only time the key is shown. The gateway keeps only its hash.",
    ),
    h("label", { for: value.id, class: "sr-only" }, "New API key"),
    h("div", { class: "row" }, value, copyButton, dismiss),
  );
}

function createForm(onCreated) {
  const name = h("input", {
    id: "key-name",
    required: true,
    minlength: "3",
    maxlength: "100",
    autocomplete: "off",
  });
  const role = h(
    "select",
    { id: "key-role" },
    ROLES.map((r) => h("option", { value: r, selected: r === "operator" }, r)),
  );
  const sessions = h("input", { id: "key-sessions", autocomplete: "off", placeholder: "all sessions" });
  const ips = h("input", { id: "key-ips", autocomplete: "off", placeholder: "any address" });
  const expires = h("input", { id: "key-expires", type: "datetime-local" });
  const form = h(
    "form",
    { class: "card stack form-grid", "aria-label": "Create an API key" },
    h("h2", {}, "New key"),
    field("Name", name),
    field("Role", role, "viewer reads; operator also sends and manages sessions; admin also manages keys"),
    field("Allowed sessions", sessions, "Comma-separated session ids; empty for all"),
    field("Allowed IPs", ips, "Comma-separated addresses or CIDRs; empty for any"),
    field("Expires", expires, "Optional; your local time"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create key")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const body = { name: name.value.trim(), role: role.value };
      if (csv(sessions.value).length) body.allowedSessions = csv(sessions.value);
      if (csv(ips.value).length) body.allowedIps = csv(ips.value);
      if (expires.value) body.expiresAt = new Date(expires.value).toISOString();
      const created = await api.post("/api/auth/api-keys", body);
      name.value = sessions.value = ips.value = expires.value = "";
      onCreated(created);
    });
  });
  return form;
}

export function createKeysPage(ctx) {
  const createdSlot = h("div", {});
  const list = h("div", { class: "table-holder", "aria-live": "polite" });
  const el = h(
    "section",
    { class: "page", id: "page-keys", "aria-labelledby": "keys-title" },
    h("h1", { id: "keys-title", tabindex: "-1" }, "API keys"),
    createdSlot,
    createForm((created) => {
      replace(
        createdSlot,
        createdPanel(created, () => replace(createdSlot)),
      );
      createdSlot.querySelector("input").focus();
      load();
    }),
    h(
      "section",
      { class: "card", "aria-labelledby": "keys-list-title" },
      h("h2", { id: "keys-list-title" }, "Keys"),
      list,
    ),
  );

  function actions(key, lastAdmin) {
    // The gateway refuses to lose its last durable admin key (LAST_ADMIN_KEY): say so before anyone tries.
    const why = lastAdmin ? "The last admin key: create another admin key first." : undefined;
    const revoke = h(
      "button",
      { type: "button", class: "btn btn-danger-quiet", disabled: !key.isActive || lastAdmin, title: why },
      "Revoke",
    );
    revoke.addEventListener("click", async () => {
      const question = `Revoke “${key.name}”? Requests with it are refused from now on.`;
      if (!(await confirmAction(question, "Revoke"))) return;
      await busy(revoke, async () => {
        await api.post(`/api/auth/api-keys/${seg(key.id)}/revoke`);
        toast(`${key.name} revoked`);
        await load();
      });
    });
    const remove = h("button", { type: "button", class: "btn btn-danger", disabled: lastAdmin, title: why }, "Delete");
    remove.addEventListener("click", async () => {
      if (!(await confirmAction(`Delete “${key.name}” for good?`, "Delete"))) return;
      await busy(remove, async () => {
        await api.del(`/api/auth/api-keys/${seg(key.id)}`);
        toast(`${key.name} deleted`);
        await load();
      });
    });
    return h(
      "div",
      { class: "row actions" },
      revoke,
      remove,
      lastAdmin ? h("small", { class: "muted", dataset: { field: "last-admin" } }, why) : null,
    );
  }

  async function load() {
    try {
      const keys = await api.get("/api/auth/api-keys");
      // Durable admin keys, as the gateway counts them: active, for every session, never expiring.
      const durable = keys.filter(
        (key) => key.role === "admin" && key.isActive && !key.expiresAt && !(key.allowedSessions || []).length,
      );
      replace(
        list,
        table(
          "API keys",
          ["Name", "Prefix", "Role", "State", "Scope", "Last used", ""],
          keys.map((key) => [
            key.name,
            h("code", {}, key.keyPrefix),
            key.role,
            h(
              "span",
              { class: "badge", dataset: { status: key.isActive ? "ready" : "failed" } },
              key.isActive ? "active" : "revoked",
            ),
            [
              key.allowedSessions && key.allowedSessions.length
                ? `sessions: ${key.allowedSessions.length}`
                : "all sessions",
              key.allowedIps && key.allowedIps.length ? `, IPs: ${key.allowedIps.join(" ")}` : "",
            ].join(""),
            ago(key.lastUsedAt),
            actions(key, durable.length === 1 && durable[0].id === key.id),
          ]),
        ),
      );
      list.querySelectorAll("tbody tr").forEach((row, index) => {
        row.dataset.keyId = keys[index].id;
        row.dataset.keyName = keys[index].name;
      });
    } catch (error) {
      toast(error.describe ? error.describe() : String(error), "error");
    }
  }

  return { el, title: "API keys", show: load };
}
