/*
 * The WPP double, part 2 (injected after wa-api.js): WPP.chat (sending, reading, chat settings, history, media).
 * Same names, parameter counts, option objects (SendMessageOptions.messageId, quotedMsg, mentionedList,
 * delay) and result shapes (SendMessageReturn and friends) as wa-js's dist/chat/functions.
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { Wid, MsgKey, state, rpc, WPPError, jid, jids, requireMain, upsertMsg, upsertChat } = sb;

  function msgId(value) {
    if (value == null) throw new WPPError('msg_not_found', 'missing message id');
    if (typeof value === 'string') return value;
    if (value.id && value.id._serialized) return value.id._serialized; // a MsgModel
    return value._serialized || String(value);
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  // SendMessageReturn as wa-js resolves it (sendRawMessage.ts; waitForAck: the message has reached the
  // server). sendMsgResult is WhatsApp's SendMsgResultObject {messageSendResult, t, count}
  // (whatsapp/types.d.ts): a refusal is an ERROR_* value and the message's ack -1; WhatsApp's own error
  // code (463, 475) is in neither.
  function sendReturn(msg) {
    const failed = msg.ack < 0;
    const result = { messageSendResult: failed ? 'ERROR_UNKNOWN' : 'OK', t: msg.t, count: null };
    return { id: msg.id._serialized, from: String(msg.from), to: String(msg.to), ack: msg.ack, sendMsgResult: result };
  }

  // prepareRawMessage.ts: a caller's messageId is a full key (a string goes through MsgKey.fromString), from
  // us, for the very chat wa-js resolved; else the send is refused before anything leaves.
  function ownKey(messageId, target) {
    const key = typeof messageId === 'string' ? MsgKey.fromString(messageId) : messageId;
    if (!key.fromMe) throw new WPPError('message_key_is_not_from_me', 'Message key is not from me');
    if (!key.remote.equals(target.id)) {
      throw new WPPError('message_key_remote_id_is_not_same_of_chat', 'Message key remote ID is not same of chat');
    }
    return key;
  }

  async function send(chatId, spec, options) {
    requireMain();
    const opts = options || {};
    const target = await chat.find(chatId, undefined);
    const body = { chat: jid(chatId), ...spec };
    if (opts.messageId) body.messageId = ownKey(opts.messageId, target).id;
    if (opts.quotedMsg) body.quotedId = msgId(opts.quotedMsg);
    if (opts.mentionedList) body.mentions = jids(opts.mentionedList);
    if (opts.delay > 0) {
      await chat.markIsComposing(chatId, opts.delay);
      await sleep(opts.delay);
    }
    // wa-js defaultSendMessageOptions.markIsRead is true: every send also reads the chat (sendRawMessage.ts),
    // which shows blue ticks to the other side for everything it sent.
    if (opts.markIsRead !== false) await chat.markIsRead(chatId).catch(() => null);
    return sendReturn(upsertMsg(await rpc('send', body)));
  }

  async function toBase64(content) {
    if (typeof content === 'string' && content.startsWith('data:')) {
      const [head, data] = content.split(',', 2);
      return { base64: data, mimetype: head.slice(5).split(';')[0] };
    }
    const blob = typeof content === 'string' ? await (await fetch(content)).blob() : content;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { base64: btoa(binary), mimetype: blob.type, filename: blob.name };
  }

  function fileMediaType(options, mimetype) {
    const type = options.type || 'auto-detect';
    if (type === 'audio' && options.isPtt) return 'ptt';
    if (type !== 'auto-detect') return type;
    if (mimetype === 'image/webp') return 'sticker';
    const major = (mimetype || '').split('/')[0];
    return ['image', 'video', 'audio'].includes(major) ? major : 'document';
  }

  function chatModel(raw) { return upsertChat(raw); }

  async function chatUpdate(chatId, changes) {
    requireMain();
    const raw = await rpc('chatUpdate', { chat: jid(chatId), ...changes });
    const cached = state.chats.get(jid(chatId));
    if (cached) upsertChat(await rpc('chat', { chat: jid(chatId) }));
    return raw;
  }

  const chat = {
    async sendTextMessage(chatId, content, options) {
      return send(chatId, { text: String(content) }, options);
    },
    async sendFileMessage(chatId, content, options) {
      const opts = options || {};
      const file = await toBase64(content);
      const mimetype = opts.mimetype || file.mimetype || 'application/octet-stream';
      const media = { base64: file.base64, mimetype, filename: opts.filename || file.filename || undefined };
      return send(chatId, { media, caption: opts.caption, mediaType: fileMediaType(opts, mimetype) }, opts);
    },
    async sendLocationMessage(chatId, options) {
      const { lat, lng, name, address, url } = options;
      return send(chatId, { location: { lat, lng, name, address, url } }, options);
    },
    async sendVCardContactMessage(chatId, contacts, options) {
      const list = (Array.isArray(contacts) ? contacts : [contacts]).map((c) =>
        typeof c === 'object' && c.name ? { id: jid(c.id), name: c.name } : { id: jid(c), name: jid(c).split('@')[0] });
      return send(chatId, { vcards: list }, options);
    },
    async sendCreatePollMessage(chatId, name, choices, options) {
      const selectableCount = (options && options.selectableCount) || 0;
      return send(chatId, { poll: { name, options: choices, selectableCount } }, options);
    },
    async sendReactionToMessage(messageId, reaction) {
      requireMain();
      return rpc('react', { msgId: msgId(messageId), reaction: reaction || '' });
    },
    async editMessage(msgId_, newText, options) {
      requireMain();
      return sendReturn(upsertMsg(await rpc('edit', { msgId: msgId(msgId_), text: newText })));
    },
    async deleteMessage(chatId, ids, deleteMediaInDevice, revoke) {
      requireMain();
      const list = Array.isArray(ids) ? ids : [ids];
      const results = await rpc('delete', { chat: jid(chatId), ids: list.map(msgId), revoke: !!revoke });
      const shaped = results.map((r) => ({ ...r, sendMsgResult: 'OK', isDeleted: !r.isRevoked }));
      return Array.isArray(ids) ? shaped : shaped[0];
    },
    async forwardMessage(toChatId, msgId_, options) {
      requireMain();
      upsertMsg(await rpc('forward', { chat: jid(toChatId), msgId: msgId(msgId_) }));
      return true;
    },
    async starMessage(ids, star) {
      requireMain();
      const list = Array.isArray(ids) ? ids : [ids];
      const out = [];
      for (const id of list) out.push(await rpc('star', { msgId: msgId(id), star: !!star }));
      return Array.isArray(ids) ? out : out[0];
    },
    async pinMsg(msgId_, pin, duration) {
      requireMain();
      const raw = await rpc('pinMsg', { msgId: msgId(msgId_), pin: pin !== false, duration: duration == null ? null : duration });
      return { message: upsertMsg(raw.msg), pinned: raw.pinned, result: 'OK' };
    },
    async unpinMsg(msgId_) { return chat.pinMsg(msgId_, false, undefined); },
    async markIsRead(chatId) {
      requireMain();
      await rpc('read', { chat: jid(chatId) });
      return { wid: new Wid(jid(chatId)), unreadCount: 0 };
    },
    async markIsUnread(chatId) {
      await chatUpdate(chatId, { marked_unread: true });
      return { wid: new Wid(jid(chatId)) };
    },
    async markIsComposing(chatId, duration) { await presence(chatId, 'composing', duration); },
    async markIsRecording(chatId, duration) { await presence(chatId, 'recording', duration); },
    async markIsPaused(chatId) { await presence(chatId, 'paused', 0); },
    async list(options) {
      requireMain();
      const o = options || {};
      let chats = (await rpc('chats', {})).map(chatModel);
      if (o.onlyUsers) chats = chats.filter((c) => c.isUser);
      if (o.onlyGroups) chats = chats.filter((c) => c.isGroup);
      if (o.onlyWithUnreadMessage) chats = chats.filter((c) => c.unreadCount !== 0);
      if (o.onlyArchived) chats = chats.filter((c) => c.archive);
      return typeof o.count === 'number' && o.count >= 0 ? chats.slice(0, o.count) : chats;
    },
    get(chatId) { return state.chats.get(jid(chatId)); },
    async find(chatId, originType) { requireMain(); return chatModel(await rpc('chat', { chat: jid(chatId) })); },
    async getMessages(chatId, options) {
      requireMain();
      const raws = await rpc('messages', { chat: jid(chatId), ...(options || {}) });
      return raws.map((raw) => upsertMsg(raw).serialize());
    },
    async getMessageById(id) {
      requireMain();
      const one = async (value) => upsertMsg(await rpc('messageById', { id: msgId(value) }));
      return Array.isArray(id) ? Promise.all(id.map(one)) : one(id);
    },
    async archive(chatId, archive) {
      const on = archive !== false;
      await chatUpdate(chatId, { archive: on });
      return { wid: new Wid(jid(chatId)), archive: on };
    },
    async unarchive(chatId) { return chat.archive(chatId, false); },
    async pin(chatId, pin) {
      const on = pin !== false;
      await chatUpdate(chatId, { pin: on });
      return { wid: new Wid(jid(chatId)), pin: on };
    },
    async unpin(chatId) { return chat.pin(chatId, false); },
    async mute(chatId, time) {
      const t = time || {};
      const expiration = t.expiration instanceof Date ? Math.floor(t.expiration.getTime() / 1000)
        : typeof t.expiration === 'number' ? t.expiration
        : Math.floor(Date.now() / 1000) + Number(t.duration || 0);
      await chatUpdate(chatId, { mute_expiration: expiration });
      return { wid: new Wid(jid(chatId)), expiration, isMuted: true };
    },
    async unmute(chatId) { await chatUpdate(chatId, { mute_expiration: 0 }); },
    async clear(chatId, keepStarred) {
      await chatUpdate(chatId, { cleared_at: Math.floor(Date.now() / 1000), unread: 0 });
      return { wid: new Wid(jid(chatId)), status: 200, keepStarred: !!keepStarred };
    },
    async delete(chatId) {
      await chatUpdate(chatId, { cleared_at: Math.floor(Date.now() / 1000), hidden: true, unread: 0 });
      state.chats.delete(jid(chatId));
      return { wid: new Wid(jid(chatId)), status: 200 };
    },
    async downloadMedia(id) {
      requireMain();
      const bare = new MsgKey(parseKey(msgId(id))).id;
      const response = await fetch('/_wa/media/' + encodeURIComponent(bare), { headers: { Authorization: 'Bearer ' + state.creds.token } });
      if (!response.ok) throw new WPPError('media_not_found', 'no media for ' + id);
      return response.blob();
    },
    async generateMessageID(chat_) {
      const remote = jid(chat_ && chat_.id ? chat_.id : chat_);
      const hex = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
      const id = '3EB0' + hex;
      // generateMessageID.ts: a group key carries our participant, by LID.
      const participant = remote.endsWith('@g.us') ? String(WPP.conn.getMyUserLid()) : undefined;
      const serialized = 'true_' + remote + '_' + id + (participant ? '_' + participant : '');
      return new MsgKey({ fromMe: true, remote, id, participant, _serialized: serialized });
    },
  };

  function parseKey(serialized) {
    const parts = serialized.split('_');
    if (parts.length < 3) return { fromMe: true, remote: '', id: serialized, _serialized: serialized };
    return { fromMe: parts[0] === 'true', remote: parts[1], id: parts[2], participant: parts[3], _serialized: serialized };
  }

  async function presence(chatId, kind, duration) {
    requireMain();
    await rpc('presence', { chat: jid(chatId), state: kind });
    if (duration > 0) setTimeout(() => rpc('presence', { chat: jid(chatId), state: 'paused' }).catch(() => {}), duration);
  }

  window.WPP.chat = chat;
  sb.toBase64 = toBase64; // wa-status.js sends story files the same way
});
