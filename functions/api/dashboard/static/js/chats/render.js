// How one stored message looks in the conversation: its quote, media, text, time and ticks, and a Reply
// button. Media shows through the signed URL the record carries: an image inline, anything else as a
// download link. The page's CSP lets images load from this origin (and data: URLs) only, so a signed URL
// of another origin (object storage, or a BASE_URL other than the address in the address bar) is read
// through the API's media route instead, with the key, and shown as a data: URL.

import { storedKey } from "../api.js";
import { clock, h } from "../dom.js";
import { preview } from "./model.js";

const MAX_INLINE_BYTES = 8 * 1024 * 1024; // larger images are offered as a download only
const STATUS_LABEL = {
  pending: "sending",
  sent: "sent",
  delivered: "delivered",
  read: "read",
  played: "played",
  failed: "failed",
};

const isImage = (mimetype) => /^image\/(png|jpeg|gif|webp)$/.test(mimetype || "");

/** True when `url` is served by this origin (the CSP lets an <img> load it). */
export function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

function mediaPath(sessionId, record) {
  const part = (value) => encodeURIComponent(String(value));
  return `/api/sessions/${part(sessionId)}/messages/${part(record.chatId)}/${part(record.id)}/media`;
}

const dataUrls = new Map(); // media path -> Promise of its data: URL (a message is redrawn on every tick)
const MAX_CACHED = 40;

/** The stored media of `record` as a data: URL, read through the API with the key (kept for redraws). */
function mediaDataUrl(sessionId, record) {
  const path = mediaPath(sessionId, record);
  if (!dataUrls.has(path)) {
    if (dataUrls.size >= MAX_CACHED) dataUrls.delete(dataUrls.keys().next().value);
    const reading = readDataUrl(path);
    reading.catch(() => dataUrls.delete(path)); // a failure is not remembered
    dataUrls.set(path, reading);
  }
  return dataUrls.get(path);
}

async function readDataUrl(path) {
  const response = await fetch(path, {
    headers: { "X-API-Key": storedKey() },
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const blob = await response.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function mediaView(sessionId, record) {
  const media = record.media;
  if (!media || !media.url) {
    if (!record.hasMedia) return null;
    const why = media && media.pending ? "Media on its way…" : "Media not stored";
    return h("p", { class: "msg-media muted" }, why);
  }
  const name = media.filename || `${record.type || "file"}`;
  const size = media.size ? ` (${Math.ceil(media.size / 1024)} KB)` : "";
  if (isImage(media.mimetype) && !(media.size > MAX_INLINE_BYTES)) {
    const image = h("img", { class: "msg-image", alt: media.filename || "Image", loading: "lazy" });
    if (sameOrigin(media.url)) image.src = media.url;
    else
      mediaDataUrl(sessionId, record)
        .then((url) => {
          image.src = url;
        })
        .catch(() => image.replaceWith(h("p", { class: "msg-media muted" }, "Image not available")));
    return h("div", { class: "msg-media" }, image);
  }
  const link = h(
    "a",
    { class: "msg-file", href: media.url, rel: "noopener noreferrer" },
    `Download ${name}${size}`,
  );
  if (sameOrigin(media.url)) link.setAttribute("download", media.filename || "");
  else link.setAttribute("target", "_blank");
  return h("p", { class: "msg-media" }, link);
}

/** A quoted message's snippet (when the quoted one is among those shown). */
function quoteView(conversation, record) {
  const quotedId = record.metadata && record.metadata.quotedMessageId;
  if (!quotedId) return null;
  const quoted = conversation.get(quotedId);
  return h("blockquote", { class: "msg-quote" }, quoted ? preview(quoted) : "An earlier message");
}

/** One message as a list item; `onReply(record)` is called by its Reply button (none without it). */
export function messageView(conversation, record, onReply) {
  const revoked = record.type === "revoked" || Boolean(record.revokedAt);
  const caption = record.metadata && record.metadata.caption;
  const text = revoked ? "This message was deleted" : record.hasMedia ? caption || "" : record.body;
  const status = record.fromMe ? STATUS_LABEL[record.status] || record.status : null;
  const meta = [clock(record.timestamp), record.editedAt ? "edited" : null, status].filter(Boolean);
  return h(
    "li",
    {
      class: `msg ${record.fromMe ? "msg-out" : "msg-in"}`,
      dataset: { messageId: record.id, status: record.status || "" },
    },
    record.isGroup && !record.fromMe && record.from
      ? h("p", { class: "msg-author small" }, record.from.replace(/@.*$/, ""))
      : null,
    quoteView(conversation, record),
    revoked ? null : mediaView(conversation.sessionId, record),
    text ? h("p", { class: `msg-text${revoked ? " muted" : ""}` }, text) : null,
    h(
      "div",
      { class: "msg-meta" },
      h("span", { class: "msg-time" }, meta.join(" · ")),
      onReply && !revoked
        ? h(
            "button",
            { type: "button", class: "btn-link", onclick: () => onReply(record) },
            h("span", { "aria-hidden": "true" }, "Reply"),
            h("span", { class: "sr-only" }, `Reply to “${preview(record).slice(0, 60)}”`),
          )
        : null,
    ),
  );
}
