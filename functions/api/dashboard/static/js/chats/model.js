// What the Chats page knows of one conversation: the stored messages it has read (newest pages first,
// `GET /api/sessions/{id}/messages?chatId=`) merged with what the event stream has said since, keyed by
// message id so a page read and an event about the same message never show it twice.

/** A chat id as the API wants it: bare digits (a phone number, maybe with +) become `<digits>@c.us`. */
export function normaliseChatId(value) {
  const text = value.trim();
  const digits = text.replace(/^\+/, "").replace(/[\s().-]/g, "");
  return /^\d{5,20}$/.test(digits) ? `${digits}@c.us` : text;
}

/** The send route for a file: images, videos and audio as such, anything else as a document. */
export function mediaRoute(mimetype) {
  if (/^image\/(jpeg|png|webp|gif)$/.test(mimetype)) return "send-image";
  if (mimetype.startsWith("video/")) return "send-video";
  if (mimetype.startsWith("audio/")) return "send-audio";
  return "send-document";
}

/** The chat an event's message belongs to (`message.received` names it by `from` when it has no chatId). */
export function chatOf(data) {
  if (!data) return null;
  if (data.chatId) return data.chatId;
  return data.fromMe ? data.to : data.from;
}

/** One line for a chat list or a quote: the text, else the caption, else the kind of message. */
export function preview(record) {
  if (!record) return "";
  if (record.type === "revoked" || record.revokedAt) return "This message was deleted";
  const caption = record.caption || (record.metadata && record.metadata.caption);
  const text = record.body && !record.hasMedia ? record.body : caption;
  if (text) return text;
  if (record.hasMedia || record.media) return `[${record.type || "media"}]`;
  return record.body || `[${record.type || "message"}]`;
}

/** A message record from a `message.received`/`message.sent` event (the shape the messages route answers). */
function fromEvent(frame) {
  const data = frame.data;
  const metadata = { ...(data.metadata || {}) }; // `message.sent` of our own sends carries the record's
  for (const name of ["caption", "quotedMessageId", "location", "poll", "vcards"])
    if (data[name] !== undefined) metadata[name] = data[name];
  const media = data.media ? { ...data.media, size: data.media.size ?? data.media.sizeBytes } : undefined;
  return {
    id: data.id,
    chatId: chatOf(data),
    from: data.author || data.from, // a group message's sender
    to: data.to,
    body: data.body || "",
    type: data.type || "text",
    fromMe: Boolean(data.fromMe),
    isGroup: Boolean(data.isGroup),
    direction: data.fromMe ? "outgoing" : "incoming",
    timestamp: data.timestamp,
    hasMedia: Boolean(data.hasMedia),
    ack: data.ack,
    status: frame.event === "message.failed" ? "failed" : data.fromMe ? "sent" : "delivered",
    metadata: Object.keys(metadata).length ? metadata : null,
    ...(media ? { media } : {}),
  };
}

const STATUS_ORDER = ["pending", "sent", "delivered", "read", "played"];

export class Conversation {
  constructor(sessionId, chatId) {
    this.sessionId = sessionId;
    this.chatId = chatId;
    this.byId = new Map();
    this.total = 0; // how many the store holds for this chat, as of the last page read
  }

  /** How many messages are held: the offset of the next older page. */
  get size() {
    return this.byId.size;
  }

  /** True while the store holds messages older than the ones read so far. */
  get hasOlder() {
    return this.byId.size < this.total;
  }

  /** Merge one page of `GET .../messages` (`{messages, total}`). */
  addPage(page) {
    this.merge(page.messages);
    this.total = Math.max(page.total, this.byId.size);
  }

  /**
   * Merge records; a field an event set (a later status) is not taken back by an older read. Returns the
   * records that changed or are new.
   */
  merge(records) {
    const changed = [];
    for (const record of records) {
      const held = this.byId.get(record.id);
      const next = held ? { ...held, ...record } : record;
      if (held && STATUS_ORDER.indexOf(held.status) > STATUS_ORDER.indexOf(record.status)) {
        next.status = held.status;
        next.ack = held.ack;
      }
      // A re-read signs the media afresh; the URL already shown stays (an image is not loaded again).
      if (held && held.media && held.media.url) next.media = held.media;
      const differs = !held || JSON.stringify(held) !== JSON.stringify(next);
      const stored = held ? Object.assign(held, next) : next; // the same object: items are keyed by it
      this.byId.set(record.id, stored);
      if (differs) changed.push(stored);
    }
    return changed;
  }

  /** Messages oldest first, as a conversation reads. */
  ordered() {
    return [...this.byId.values()].sort(
      (a, b) => (a.timestamp || 0) - (b.timestamp || 0) || String(a.createdAt).localeCompare(b.createdAt),
    );
  }

  get(id) {
    return this.byId.get(id);
  }

  /**
   * Apply one event frame of this session. Returns the record it changed (undefined when the event is
   * about another chat or a message not held here).
   */
  apply(frame) {
    const data = frame.data || {};
    const event = frame.event;
    if (event === "message.received" || event === "message.sent") {
      if (!data.id || chatOf(data) !== this.chatId) return undefined;
      const isNew = !this.byId.has(data.id);
      this.merge([fromEvent(frame)]);
      if (isNew) this.total += 1;
      return this.byId.get(data.id);
    }
    const id = event === "message.revoked" ? data.revokedId : data.messageId || data.id;
    const held = id && this.byId.get(id);
    if (!held) return undefined;
    if (event === "message.ack") {
      if (STATUS_ORDER.indexOf(data.status) > STATUS_ORDER.indexOf(held.status))
        Object.assign(held, { status: data.status, ack: data.ack });
    } else if (event === "message.failed") {
      Object.assign(held, { status: "failed", ack: -1, error: data.error || null });
    } else if (event === "message.revoked") {
      Object.assign(held, { type: "revoked", body: "", revokedAt: frame.timestamp, media: undefined });
    } else if (event === "message.edited") {
      Object.assign(held, { body: data.body || "", editedAt: frame.timestamp });
    } else if (event === "message.media_ready" && data.media) {
      held.media = { ...data.media, size: data.media.size ?? data.media.sizeBytes };
    } else {
      return undefined;
    }
    return held;
  }
}
