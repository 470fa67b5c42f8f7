// Chat tester: pick a ready session and a chat, send a text or a file through the messaging API, and
// watch that session's `message.*` events arrive on the stream.

import { api, seg } from "../api.js";
import { busy, clock, field, h, replace } from "../dom.js";

const MAX_LOG = 50;

/** A chat id as the API wants it: bare digits (a phone number) become `<digits>@c.us`. */
export function normaliseChatId(value) {
  const text = value.trim();
  const digits = text.replace(/^\+/, "");
  return /^\d{5,20}$/.test(digits) ? `${digits}@c.us` : text;
}

/** The send route for a file: images, videos and audio as such, anything else as a document. */
function mediaRoute(mimetype) {
  if (/^image\/(jpeg|png|webp)$/.test(mimetype)) return "send-image";
  if (mimetype.startsWith("video/")) return "send-video";
  if (mimetype.startsWith("audio/")) return "send-audio";
  return "send-document";
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function summary(frame) {
  const data = frame.data || {};
  const outgoing = frame.event === "message.sent" || data.fromMe === true;
  const peer = (outgoing ? data.to : data.from) || data.chatId || data.from || data.to || "";
  const text = data.body || data.caption || data.text || "";
  const status = data.status || (data.ack !== undefined ? `ack ${data.ack}` : "");
  return [peer, text && `“${text}”`, status].filter(Boolean).join(" · ");
}

export function createChatPage(ctx) {
  const session = h("select", { id: "chat-session", required: true });
  const chatId = h("input", {
    id: "chat-id",
    required: true,
    autocomplete: "off",
    placeholder: "15551230002@c.us",
    spellcheck: "false",
  });
  const text = h("textarea", {
    id: "chat-text",
    rows: "3",
    maxlength: "4096",
    placeholder: "Hello from OpenWA",
  });
  const file = h("input", { id: "chat-file", type: "file" });
  const caption = h("input", { id: "chat-caption", maxlength: "1024", autocomplete: "off" });
  const result = h("output", { id: "chat-result", class: "result", "aria-live": "polite" });
  const noneReady = h(
    "p",
    { class: "alert", hidden: true },
    "No session is ready. Link one on the Sessions page.",
  );
  const log = h("ol", { id: "chat-events", class: "event-log", "aria-live": "polite", reversed: true });
  const logEmpty = h("p", { class: "muted" }, "Events of the selected session appear here as they happen.");

  async function send(route, body, button) {
    replace(result);
    await busy(button, async () => {
      try {
        const answer = await api.post(`/api/sessions/${seg(session.value)}/messages/${route}`, {
          chatId: normaliseChatId(chatId.value),
          ...body,
        });
        replace(
          result,
          h("span", { class: "ok" }, `Accepted: ${answer.messageId} at ${clock(answer.timestamp)}`),
        );
        return answer;
      } catch (error) {
        replace(
          result,
          h("span", { class: "error", role: "alert" }, error.describe ? error.describe() : String(error)),
        );
        return undefined;
      }
    });
  }

  const textForm = h(
    "form",
    { class: "stack", "aria-label": "Send a text" },
    field("Text", text),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Send text")),
  );
  textForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!chatId.reportValidity() || !session.reportValidity()) return;
    send("send-text", { text: text.value }, event.submitter);
  });
  const fileForm = h(
    "form",
    { class: "stack", "aria-label": "Send a file" },
    field("File", file),
    field("Caption (optional)", caption),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Send file")),
  );
  fileForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chatId.reportValidity() || !session.reportValidity()) return;
    const chosen = file.files[0];
    if (!chosen) {
      replace(result, h("span", { class: "error", role: "alert" }, "Choose a file first."));
      return;
    }
    const mimetype = chosen.type || "application/octet-stream";
    const body = { base64: await readBase64(chosen), mimetype, filename: chosen.name };
    if (caption.value.trim()) body.caption = caption.value.trim();
    send(mediaRoute(mimetype), body, event.submitter);
  });

  const el = h(
    "section",
    { class: "page", id: "page-chat", "aria-labelledby": "chat-title" },
    h("h1", { id: "chat-title", tabindex: "-1" }, "Chat tester"),
    noneReady,
    h(
      "div",
      { class: "grid grid-2" },
      h(
        "section",
        { class: "card stack", "aria-label": "Compose" },
        field("Session (ready ones)", session),
        field("Chat id", chatId, "A phone number (country code first) or a full id like 15551230002@c.us"),
        ctx.canOperate ? [textForm, fileForm] : h("p", { class: "muted" }, "Sending needs an operator key."),
        result,
      ),
      h("section", { class: "card", "aria-labelledby": "chat-events-title" }, [
        h("h2", { id: "chat-events-title" }, "Message events"),
        logEmpty,
        log,
      ]),
    ),
  );

  function renderSessions() {
    const ready = ctx.store.list().filter((s) => s.status === "ready");
    const chosen = session.value;
    replace(
      session,
      ready.map((s) =>
        h("option", { value: s.id, selected: s.id === chosen }, s.phone ? `${s.name} (+${s.phone})` : s.name),
      ),
    );
    noneReady.hidden = !ctx.store.loaded || ready.length > 0;
  }

  function onEvent(frame) {
    if (!frame.event || !frame.event.startsWith("message.") || frame.sessionId !== session.value) return;
    const raw = h("details", {}, h("summary", {}, "data"), h("pre", {}, JSON.stringify(frame.data, null, 2)));
    const item = h(
      "li",
      { class: "event", dataset: { event: frame.event } },
      h("span", { class: "event-time" }, clock(frame.timestamp)),
      h("span", { class: "event-name" }, frame.event),
      h("span", { class: "event-summary" }, summary(frame)),
      raw,
    );
    log.prepend(item);
    while (log.children.length > MAX_LOG) log.lastElementChild.remove();
    logEmpty.hidden = true;
  }

  session.addEventListener("change", () => {
    log.replaceChildren();
    logEmpty.hidden = false;
  });
  const unsubscribe = ctx.store.subscribe(renderSessions);
  return { el, title: "Chat tester", show: renderSessions, onEvent, destroy: unsubscribe };
}
