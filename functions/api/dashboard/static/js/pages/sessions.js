// Sessions: live status of every session, create, the lifecycle commands (destructive ones confirmed),
// linking by QR (the image follows `session.qr` events) or by pairing code, and what `ready`/`failed`
// carry (phone and push name / lastError). Cards are updated in place, so typing in one is never lost.

import { api, seg } from "../api.js";
import { busy, confirmAction, field, h, replace, toast } from "../dom.js";
import { settingsPanel } from "./session_settings.js";

// Statuses in which a session's process is running (a runner holds it).
const RUNNING = new Set(["initializing", "qr_ready", "authenticating", "ready", "disconnected"]);

// Each command says when it applies (`when(session)`) and why not (`whyNot`), so a button never offers
// what the gateway would refuse or what does nothing (Start on a ready session).
const COMMANDS = [
  {
    name: "start",
    label: "Start",
    when: (s) => !RUNNING.has(s.status),
    whyNot: "It is already running.",
  },
  { name: "stop", label: "Stop", when: (s) => RUNNING.has(s.status), whyNot: "It is not running." },
  {
    name: "restart",
    label: "Restart",
    when: (s) => s.status !== "created",
    whyNot: "It has never been started.",
  },
  {
    name: "logout",
    label: "Log out",
    danger: true,
    when: (s) => Boolean(s.phone) || s.status === "ready",
    whyNot: "No WhatsApp account is linked.",
    confirm: (s) =>
      `Log out “${s.name}”? The device is unlinked from WhatsApp and its credentials are wiped; ` +
      "linking again needs a new QR scan.",
  },
  {
    name: "force-kill",
    label: "Force kill",
    danger: true,
    when: (s) => RUNNING.has(s.status),
    whyNot: "It is not running.",
    confirm: (s) => `Force-kill the session process of “${s.name}”? Use it when the session is wedged.`,
  },
];

function pairingCode(code) {
  return code && code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

function detail(label, value, name) {
  return [h("dt", {}, label), h("dd", { dataset: { field: name } }, value)];
}

/** Put the session's raw QR string (what the sandbox's `/phones/{n}/link` takes) on the clipboard. */
async function copyRawQr(id, button) {
  await busy(button, async () => {
    const answer = await api.get(`/api/sessions/${seg(id)}/qr?format=raw`);
    try {
      await navigator.clipboard.writeText(answer.raw);
      toast("Raw QR copied to the clipboard");
    } catch {
      // No clipboard here (plain http on another host): show it, selected, to copy by hand.
      const box = h("input", { class: "mono", readonly: true, value: answer.raw, "aria-label": "Raw QR" });
      button.after(box);
      box.select();
    }
  });
}

/** One session's card; `update(session, qr)` refreshes it without replacing its inputs. */
function sessionCard(ctx, session) {
  const id = session.id;
  const badge = h("span", { class: "badge", role: "status", dataset: { field: "status" } });
  const details = h("dl", { class: "details" });
  const qrImage = h("img", { class: "qr", width: "264", height: "264", alt: "" });
  const phoneInput = h("input", {
    id: `pair-phone-${id}`,
    type: "tel",
    inputmode: "numeric",
    autocomplete: "off",
    placeholder: "15551230001",
    pattern: "\\+?[0-9]{6,15}",
    required: true,
  });
  const codeOut = h("output", { class: "pairing-code", "aria-live": "polite", for: phoneInput.id });
  const pairForm = h(
    "form",
    { class: "stack pair-form" },
    field("…or link with a phone number", phoneInput, "Country code first, digits only"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Get pairing code")),
    codeOut,
  );
  pairForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const answer = await api.post(`/api/sessions/${seg(id)}/pairing-code`, {
        phoneNumber: phoneInput.value.trim(),
      });
      replace(codeOut, "Enter this code on the phone: ", h("strong", {}, pairingCode(answer.pairingCode)));
    });
  });
  // The sandbox has no phone camera to scan with: its control API links a phone from the raw QR string.
  const copyRaw =
    ctx.canOperate && ctx.principal.engineType === "sandbox"
      ? h("button", { type: "button", class: "btn btn-quiet" }, "Copy raw QR")
      : null;
  if (copyRaw) copyRaw.addEventListener("click", () => copyRawQr(id, copyRaw));
  const qrBox = h(
    "div",
    { class: "qr-box", hidden: true },
    h("p", {}, "Scan with WhatsApp → Linked devices → Link a device. The code refreshes by itself."),
    qrImage,
    h(
      "p",
      { class: "muted small", dataset: { field: "qr-missing" }, hidden: true },
      "Waiting for the QR code…",
    ),
    copyRaw,
    ctx.canOperate ? pairForm : null,
  );
  const actions = h("div", { class: "row actions" });
  const title = h("h2", { class: "card-title" });
  const el = h(
    "article",
    { class: "card session", dataset: { sessionId: id } },
    h("header", { class: "card-head" }, title, badge),
    details,
    qrBox,
    ctx.canOperate ? actions : null,
    settingsPanel(ctx, id),
  );

  async function run(command, button) {
    const current = ctx.store.get(id) || session;
    if (command.confirm && !(await confirmAction(command.confirm(current), command.label))) return;
    await busy(button, async () => {
      ctx.store.put(await api.post(`/api/sessions/${seg(id)}/${command.name}`));
      toast(`${current.name}: ${command.label.toLowerCase()} requested`);
    });
  }

  async function remove(button) {
    const current = ctx.store.get(id) || session;
    const question =
      `Delete “${current.name}” with its webhooks, queued commands and stored credentials? ` +
      "This cannot be undone.";
    if (!(await confirmAction(question, "Delete"))) return;
    await busy(button, async () => {
      await api.del(`/api/sessions/${seg(id)}`);
      ctx.store.remove(id);
      toast(`${current.name} deleted`);
    });
  }

  const buttons = COMMANDS.map((command) => {
    const button = h(
      "button",
      { type: "button", class: command.danger ? "btn btn-danger-quiet" : "btn", dataset: { command: command.name } },
      command.label,
    );
    button.addEventListener("click", () => run(command, button));
    actions.append(button);
    return [command, button];
  });
  const deleteButton = h("button", { type: "button", class: "btn btn-danger" }, "Delete");
  deleteButton.addEventListener("click", () => remove(deleteButton));
  actions.append(deleteButton);

  function update(current, qr) {
    title.textContent = current.name;
    // With the gateway unreachable, the last status seen may be long gone: never show a stale "ready".
    const shown = ctx.store.live ? current.status : "unknown";
    badge.textContent = shown.replace("_", " ");
    badge.dataset.status = shown;
    if (ctx.store.live) badge.removeAttribute("title");
    else badge.title = `The gateway is unreachable; last seen ${current.status.replace("_", " ")}`;
    el.dataset.status = current.status;
    replace(
      details,
      detail("Id", h("code", {}, current.id), "id"),
      current.phone ? detail("Phone", `+${current.phone}`, "phone") : null,
      current.pushName ? detail("Push name", current.pushName, "pushName") : null,
      current.lastError ? detail("Last error", current.lastError, "lastError") : null,
      current.restriction ? detail("Restriction", JSON.stringify(current.restriction), "restriction") : null,
      detail("WhatsApp Web", current.engineLoaded ? "open on a runner" : "not open", "engine"),
    );
    for (const [command, button] of buttons) {
      if (button.getAttribute("aria-busy")) continue; // `busy` restores it when the request ends
      const applies = command.when(current);
      button.disabled = !applies;
      if (applies) button.removeAttribute("title");
      else button.title = command.whyNot;
    }
    const showingQr = current.status === "qr_ready";
    qrBox.hidden = !showingQr;
    if (!showingQr) replace(codeOut);
    qrImage.hidden = !qr;
    qrBox.querySelector("[data-field=qr-missing]").hidden = Boolean(qr);
    if (qr && qrImage.getAttribute("src") !== qr) {
      qrImage.src = qr;
      qrImage.alt = `QR code to link session ${current.name}`;
    }
    if (showingQr && !qr && ctx.canOperate) ctx.store.loadQr(id);
  }

  return { el, update };
}

function createForm(ctx) {
  const name = h("input", {
    id: "new-session-name",
    name: "name",
    required: true,
    autocomplete: "off",
    pattern: "[A-Za-z0-9_\\-]{3,50}",
    placeholder: "sales",
  });
  const startNow = h("input", { id: "new-session-start", type: "checkbox", checked: true });
  const form = h(
    "form",
    { class: "card form-inline", "aria-label": "Create a session" },
    field("New session name", name, "3–50 letters, digits, - or _"),
    h("label", { class: "check", for: startNow.id }, startNow, " Start it now"),
    h("button", { type: "submit", class: "btn btn-primary" }, "Create session"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      let session = await api.post("/api/sessions", { name: name.value.trim() });
      if (startNow.checked) session = await api.post(`/api/sessions/${seg(session.id)}/start`);
      ctx.store.put(session);
      toast(`Session ${session.name} created`);
      name.value = "";
    });
  });
  return form;
}

export function createSessionsPage(ctx) {
  const list = h("div", { class: "grid sessions-list", "aria-live": "polite" });
  const empty = h("p", { class: "muted", hidden: true }, "No sessions yet. Create one above.");
  const refresh = h("button", { type: "button", class: "btn btn-quiet" }, "Refresh");
  refresh.addEventListener("click", () => busy(refresh, () => ctx.store.refresh()));
  const el = h(
    "section",
    { class: "page", id: "page-sessions", "aria-labelledby": "sessions-title" },
    h("div", { class: "page-head" }, h("h1", { id: "sessions-title", tabindex: "-1" }, "Sessions"), refresh),
    ctx.canOperate ? createForm(ctx) : h("p", { class: "muted" }, "This key is read-only (viewer)."),
    empty,
    list,
  );
  const cards = new Map();

  function render() {
    const sessions = ctx.store.list();
    const seen = new Set();
    for (const session of sessions) {
      seen.add(session.id);
      if (!cards.has(session.id)) cards.set(session.id, sessionCard(ctx, session));
      cards.get(session.id).update(session, ctx.store.qrCodes.get(session.id));
    }
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    const order = sessions.map((session) => cards.get(session.id).el);
    const inOrder =
      order.length === list.children.length && order.every((node, i) => list.children[i] === node);
    if (!inOrder) list.replaceChildren(...order); // only on a change of membership: moving blurs focus
    empty.hidden = !ctx.store.loaded || sessions.length > 0;
  }

  const unsubscribe = ctx.store.subscribe(render);
  return {
    el,
    title: "Sessions",
    show() {
      render();
      ctx.store.refresh().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
    },
    destroy: unsubscribe,
  };
}
