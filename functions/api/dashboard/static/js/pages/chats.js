// Chats: a session's chat list and one conversation read from stored history (newest page first, older
// pages on request), kept live by the event stream, with a composer that sends a text, a file (by its
// type: image, video, audio or document) or a reply quoting a chosen message. The open chat is in the
// address (`#/chats/<sessionId>/<chatId>`), so a reload comes back to it. Below 760 px the list and the
// conversation are two views, one at a time.

import { ApiError, api, seg } from "../api.js";
import { busy, clock, field, h, replace, toast } from "../dom.js";
import { Conversation, chatOf, mediaRoute, normaliseChatId, preview } from "../chats/model.js";
import { messageView } from "../chats/render.js";

const PAGE_SIZE = 30;
const CHAT_LIST_LIMIT = 200;
const STICK_TO_BOTTOM_PX = 80; // closer than this to the end: a new message scrolls into view

function describe(error) {
  return error.describe ? error.describe() : String(error.message || error);
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** `#/chats/<session>/<chat>` -> {sessionId, chatId} (either may be missing). */
function fromHash() {
  const [, sessionId, chatId] = location.hash.replace(/^#\/?/, "").split("/");
  const decode = (part) => (part ? decodeURIComponent(part) : undefined);
  return { sessionId: decode(sessionId), chatId: decode(chatId) };
}

export function createChatsPage(ctx) {
  let sessionId = null;
  let chats = []; // ChatSummary-like entries, most recent first
  let conversation = null;
  let replyTo = null;
  let loadSeq = 0; // opening another chat makes the answers for the one before stale
  let chatsSeq = 0; // the same for chat lists, when another session is chosen
  const items = new Map(); // message id -> its <li>

  const session = h("select", { id: "chats-session" });
  const listNote = h("p", { id: "chat-list-note", class: "muted small", "aria-live": "polite" });
  const chatList = h("ul", { id: "chat-list", class: "chat-list", "aria-label": "Chats" });
  const openInput = h("input", {
    id: "chats-open",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "15551230002",
  });
  const openForm = h(
    "form",
    { class: "open-chat", "aria-label": "Open a chat" },
    field("Phone number or chat id", openInput, "Country code first, e.g. 15551230002"),
    h("button", { type: "submit", class: "btn" }, "Open"),
  );

  const title = h("h2", { id: "conversation-title", tabindex: "-1" }, "No chat open");
  const subtitle = h("p", { class: "muted small conversation-id" });
  const back = h("button", { type: "button", class: "btn btn-quiet back-to-chats" }, "← Back to chats");
  const older = h("button", { type: "button", class: "btn load-older", hidden: true }, "Load older messages");
  const messages = h("ol", { id: "conversation-messages", class: "messages", "aria-live": "polite" });
  const empty = h("p", { class: "muted conversation-empty" }, "Pick a chat to read it.");
  const text = h("textarea", { id: "composer-text", rows: "2", maxlength: "4096", placeholder: "Message" });
  const file = h("input", { id: "composer-file", type: "file" });
  const replyNote = h("span", { class: "reply-text" });
  const replyBar = h(
    "div",
    { class: "reply-bar", hidden: true, role: "status" },
    replyNote,
    h("button", { type: "button", class: "btn btn-quiet", onclick: () => setReply(null) }, "Cancel reply"),
  );
  const composer = h(
    "form",
    { class: "composer stack", "aria-label": "Send a message", hidden: true },
    replyBar,
    field("Message", text),
    h(
      "div",
      { class: "row composer-actions" },
      field("Attach a file", file),
      h("button", { type: "submit", class: "btn btn-primary" }, "Send"),
    ),
  );
  const conversationPane = h(
    "section",
    { class: "card conversation", "aria-labelledby": "conversation-title" },
    h("div", { class: "conversation-head" }, back, h("div", {}, title, subtitle)),
    older,
    messages,
    empty,
    ctx.canOperate ? composer : h("p", { class: "muted" }, "Sending needs an operator key."),
  );
  const layout = h(
    "div",
    { class: "chats", dataset: { view: "list" } },
    h(
      "section",
      { class: "card chat-pane stack", "aria-label": "Chats of the session" },
      field("Session", session),
      openForm,
      listNote,
      chatList,
    ),
    conversationPane,
  );
  const el = h(
    "section",
    { class: "page", id: "page-chats", "aria-labelledby": "chats-title" },
    h("h1", { id: "chats-title", tabindex: "-1" }, "Chats"),
    layout,
  );

  // --- the chat list ---------------------------------------------------------------------------------

  function renderChats() {
    replace(
      chatList,
      chats.map((chat) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "chat-item",
              dataset: { chatId: chat.id },
              "aria-current": conversation && conversation.chatId === chat.id ? "true" : null,
              onclick: () => openChat(chat.id),
            },
            h("span", { class: "chat-name" }, chat.name || chat.id),
            h("span", { class: "chat-time muted small" }, chat.timestamp ? clock(chat.timestamp) : ""),
            h("span", { class: "chat-preview muted small" }, chat.lastMessage || ""),
            chat.unreadCount > 0
              ? h(
                  "span",
                  { class: "badge chat-unread" },
                  chat.unreadCount,
                  h("span", { class: "sr-only" }, " unread on WhatsApp"),
                )
              : null,
          ),
        ),
      ),
    );
    if (!chats.length && !listNote.textContent) listNote.textContent = "No chats yet.";
  }

  async function loadChats() {
    const seq = ++chatsSeq;
    chats = [];
    listNote.textContent = "";
    renderChats();
    if (!sessionId) return;
    try {
      const listed = await api.get(`/api/sessions/${seg(sessionId)}/chats?limit=${CHAT_LIST_LIMIT}`);
      if (seq !== chatsSeq) return;
      const known = new Map(chats.map((chat) => [chat.id, chat])); // events that came in meanwhile win
      chats = [...chats, ...listed.filter((chat) => !known.has(chat.id) && chat.kind !== "status")];
      listNote.textContent = chats.length ? "" : "No chats yet.";
    } catch (error) {
      if (seq !== chatsSeq) return;
      listNote.textContent =
        error instanceof ApiError && error.status === 409
          ? "The chat list is read from WhatsApp, so it needs a ready session. Stored chats open by number."
          : `Chats not loaded: ${describe(error)}`;
    }
    renderChats();
    const open = conversation && chats.find((chat) => chat.id === conversation.chatId);
    if (open && open.name) title.textContent = open.name; // opened from the address before the list came
  }

  /** A message event moves its chat to the top with the new preview; one received counts as unread, as
   * on WhatsApp (reading here marks nothing read there: that would send read receipts). */
  function touchChat(frame) {
    const data = frame.data || {};
    const chatId = chatOf(data);
    if (!chatId || chatId === "status@broadcast") return;
    const held = chats.find((chat) => chat.id === chatId);
    const entry = held || { id: chatId, name: chatId, unreadCount: 0 };
    entry.lastMessage = preview({ ...data, metadata: null });
    entry.timestamp = data.timestamp || entry.timestamp;
    if (frame.event === "message.received") entry.unreadCount = Math.max(entry.unreadCount || 0, 0) + 1;
    chats = [entry, ...chats.filter((chat) => chat !== entry)];
    if (!listNote.textContent.startsWith("The chat list")) listNote.textContent = "";
    renderChats();
  }

  // --- the conversation ------------------------------------------------------------------------------

  const nearBottom = () =>
    messages.scrollHeight - messages.scrollTop - messages.clientHeight < STICK_TO_BOTTOM_PX;

  function onReply(record) {
    setReply(record);
    text.focus();
  }

  /** Put `record`'s item where it belongs (oldest first), replacing the one shown before. */
  function place(record) {
    const item = messageView(conversation, record, ctx.canOperate ? onReply : null);
    const before = items.get(record.id);
    items.set(record.id, item);
    if (before) {
      before.replaceWith(item);
      return;
    }
    const ordered = conversation.ordered();
    const next = ordered.slice(ordered.indexOf(record) + 1).find((later) => items.has(later.id));
    messages.insertBefore(item, next ? items.get(next.id) : null);
  }

  function renderConversation() {
    items.clear();
    messages.replaceChildren();
    if (!conversation) return;
    conversation.ordered().forEach(place);
    afterChange();
  }

  function afterChange() {
    older.hidden = !conversation || !conversation.hasOlder;
    empty.hidden = Boolean(conversation && conversation.size);
    empty.textContent = conversation ? "No messages stored for this chat yet." : "Pick a chat to read it.";
  }

  async function loadPage(seq) {
    const query = `chatId=${seg(conversation.chatId)}&limit=${PAGE_SIZE}&offset=${conversation.size}`;
    const page = await api.get(`/api/sessions/${seg(conversation.sessionId)}/messages?${query}`);
    if (seq !== loadSeq) return false;
    conversation.addPage(page);
    return true;
  }

  async function openChat(chatId, { focus = true } = {}) {
    const seq = ++loadSeq;
    conversation = new Conversation(sessionId, chatId);
    setReply(null);
    const chat = chats.find((entry) => entry.id === chatId);
    title.textContent = chat && chat.name && chat.name !== chatId ? chat.name : chatId;
    subtitle.textContent = chatId;
    composer.hidden = false;
    layout.dataset.view = "conversation";
    history.replaceState(null, "", `#/chats/${seg(sessionId)}/${seg(chatId)}`);
    renderChats();
    renderConversation();
    if (focus) title.focus();
    try {
      if (!(await loadPage(seq))) return;
    } catch (error) {
      if (seq === loadSeq) toast(`Messages not loaded: ${describe(error)}`, "error");
      return;
    }
    renderConversation();
    messages.scrollTop = messages.scrollHeight;
  }

  function closeChat() {
    layout.dataset.view = "list";
    history.replaceState(null, "", sessionId ? `#/chats/${seg(sessionId)}` : "#/chats");
  }

  older.addEventListener("click", () =>
    busy(older, async () => {
      const fromBottom = messages.scrollHeight - messages.scrollTop;
      if (!(await loadPage(loadSeq))) return;
      conversation.ordered().forEach((record) => items.has(record.id) || place(record));
      afterChange();
      messages.scrollTop = messages.scrollHeight - fromBottom; // keep the message that was on top in view
    }),
  );
  back.addEventListener("click", () => {
    closeChat();
    const selector = conversation && `[data-chat-id="${CSS.escape(conversation.chatId)}"]`;
    const current = selector && chatList.querySelector(selector);
    (current || session).focus();
  });

  // --- sending ---------------------------------------------------------------------------------------

  function setReply(record) {
    replyTo = record;
    replyBar.hidden = !record;
    replyNote.textContent = record ? `Replying to “${preview(record).slice(0, 80)}”` : "";
  }

  /** Re-read one stored message (its media URL, its status) and show it. */
  async function refreshRecord(target, messageId) {
    const path = `/api/sessions/${seg(target.sessionId)}/messages/${seg(target.chatId)}/${seg(messageId)}`;
    const record = await api.get(path);
    if (conversation !== target) return;
    target.merge([record]);
    place(target.get(messageId));
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = conversation;
    const chosen = file.files[0];
    const words = text.value.trim();
    if (!target || (!chosen && !words)) {
      text.focus();
      return;
    }
    busy(event.submitter, async () => {
      const body = { chatId: target.chatId };
      if (replyTo) body.quotedMessageId = replyTo.id;
      let route = "send-text";
      if (chosen) {
        body.mimetype = chosen.type || "application/octet-stream";
        body.base64 = await readBase64(chosen);
        body.filename = chosen.name;
        if (words) body.caption = words;
        route = mediaRoute(body.mimetype);
      } else {
        body.text = words;
      }
      const answer = await api.post(`/api/sessions/${seg(target.sessionId)}/messages/${route}`, body);
      const isNew = !target.get(answer.messageId);
      target.merge([
        {
          id: answer.messageId,
          chatId: target.chatId,
          fromMe: true,
          direction: "outgoing",
          type: chosen ? route.replace("send-", "") : "text",
          body: chosen ? "" : words,
          hasMedia: Boolean(chosen),
          timestamp: answer.timestamp,
          status: "pending",
          metadata: { caption: body.caption, quotedMessageId: body.quotedMessageId },
        },
      ]);
      if (isNew) target.total += 1;
      if (conversation === target) {
        place(target.get(answer.messageId));
        afterChange();
        messages.scrollTop = messages.scrollHeight;
      }
      text.value = "";
      file.value = "";
      setReply(null);
      await refreshRecord(target, answer.messageId).catch(() => {}); // the stored media's URL
    });
  });

  openForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!sessionId || !openInput.value.trim()) return;
    openChat(normaliseChatId(openInput.value));
    openInput.value = "";
  });

  // --- sessions, route and events --------------------------------------------------------------------

  function renderSessions() {
    const all = ctx.store.list();
    const ready = all.filter((s) => s.status === "ready");
    const chosen = sessionId;
    replace(
      session,
      [...ready, ...all.filter((s) => s.status !== "ready")].map((s) =>
        h(
          "option",
          { value: s.id, selected: s.id === chosen },
          `${s.name}${s.phone ? ` (+${s.phone})` : ""}${s.status === "ready" ? "" : ` · ${s.status}`}`,
        ),
      ),
    );
  }

  function chooseSession(id, chatId) {
    if (id !== sessionId) {
      sessionId = id;
      session.value = id;
      conversation = null;
      composer.hidden = true;
      title.textContent = "No chat open";
      subtitle.textContent = "";
      renderConversation();
      afterChange();
      loadChats();
    }
    if (chatId) openChat(chatId, { focus: false });
    else closeChat();
  }

  session.addEventListener("change", () => chooseSession(session.value));

  /** The stream came back without resuming: re-read the newest page (statuses, messages in the gap). */
  async function resync() {
    const target = conversation;
    if (!target) return;
    const query = `chatId=${seg(target.chatId)}&limit=${PAGE_SIZE}&offset=0`;
    const page = await api.get(`/api/sessions/${seg(target.sessionId)}/messages?${query}`);
    if (conversation !== target) return;
    const stick = nearBottom();
    const changed = target.merge(page.messages);
    target.total = Math.max(target.total, page.total, target.size);
    changed.forEach(place); // only those: redrawing the rest would take focus from a Reply button
    afterChange();
    if (stick) messages.scrollTop = messages.scrollHeight;
  }

  /** Opened (or come back to): follow the address, else keep the session shown, else the first one. */
  function show() {
    renderSessions();
    const wanted = fromHash();
    if (wanted.sessionId) chooseSession(wanted.sessionId, wanted.chatId);
    else if (sessionId) closeChat();
    else if (session.value) chooseSession(session.value);
  }

  function onEvent(frame) {
    if (!frame.event || !frame.event.startsWith("message.") || frame.sessionId !== sessionId) return;
    if (frame.event === "message.received" || frame.event === "message.sent") touchChat(frame);
    if (!conversation) return;
    const stick = nearBottom();
    const changed = conversation.apply(frame);
    if (!changed) return;
    place(changed);
    afterChange();
    if (stick) messages.scrollTop = messages.scrollHeight;
    const data = frame.data || {};
    if (frame.event === "message.sent" && data.hasMedia && !(changed.media && changed.media.url))
      refreshRecord(conversation, changed.id).catch(() => {});
  }

  const unsubscribe = ctx.store.subscribe(() => {
    renderSessions();
    if (!el.hidden && !sessionId && session.value) chooseSession(session.value); // the list arrived
  });
  return {
    el,
    title: "Chats",
    show,
    onEvent,
    resync: () => resync().catch(() => {}),
    destroy: unsubscribe,
  };
}
