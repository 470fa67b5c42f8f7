/*
 * The WhatsApp Web double, part 2: the connection lifecycle and the page's caches.
 *
 * Not linked: stream mode QR and a stream of QR codes (conn.auth_code_change each rotation) until a phone
 * links the page; then conn.auth_code_change(null), the credentials are stored and the page reloads, as
 * WhatsApp Web does after linking (whatsapp-web.js #3792).
 * Linked (a page that loads with credentials): conn.main_init -> conn.main_loaded, then one numbered event
 * stream; once it is live, stream mode MAIN. When the stream drops the page says conn.online(false), retries
 * every second and, back online, resumes from the last event number it saw (nothing is lost). A logout,
 * from the phone or WPP.conn.logout(), wipes the credentials and navigates to /?post_logout=1, as WhatsApp
 * Web does; that page load shows a new QR.
 */
(function () {
  'use strict';
  const sb = window.__waSandbox;
  const { emit, Wid, MsgKey, MsgModel, ChatModel, credentials, post } = sb;

  const state = {
    pageId: Math.random().toString(36).slice(2) + Date.now().toString(36),
    creds: null, me: null, authCode: null, source: null, streamMode: null,
    authenticated: false, booted: false, mainReady: false, online: false, retry: 0,
    msgs: new Map(), chats: new Map(), blocked: [], emitted: new Set(), about: '',
  };
  sb.state = state;

  function rpc(method, args) {
    if (!state.creds) return Promise.reject(new sb.WPPError('not_authenticated', 'the page is not linked'));
    return post('/_wa/rpc/' + method, args, state.creds.token).then((data) => data.result);
  }
  sb.rpc = rpc;

  function upsertMsg(raw) {
    const found = state.msgs.get(raw.id._serialized);
    if (found) return found.update(raw);
    const msg = new MsgModel(raw);
    state.msgs.set(raw.id._serialized, msg);
    return msg;
  }
  sb.upsertMsg = upsertMsg;

  function upsertChat(raw) {
    const found = state.chats.get(raw.id);
    if (found) return found.update(raw);
    const chat = new ChatModel(raw);
    state.chats.set(raw.id, chat);
    return chat;
  }
  sb.upsertChat = upsertChat;

  function setStreamMode(mode) {
    if (state.streamMode === mode) return;
    state.streamMode = mode;
    emit('conn.stream_mode_changed', mode);
  }

  // ---- not linked: QR codes ----
  function startQr() {
    state.authenticated = state.mainReady = false;
    emit('conn.require_auth');
    setStreamMode('QR');
    openStream('/_wa/events?page=' + encodeURIComponent(state.pageId), onPendingEvent);
  }

  function onPendingEvent(event) {
    if (event.type === 'qr') {
      const [ref, staticKeyPair, identityKeyPair, secretKey] = event.qr.split(',');
      state.authCode = { type: 'multidevice', ref, staticKeyPair, identityKeyPair, secretKey, fullCode: event.qr };
      document.dispatchEvent(new CustomEvent('sandbox:qr', { detail: event }));
      emit('conn.auth_code_change', state.authCode);
    } else if (event.type === 'idle') {
      // WhatsApp Web stops rotating after a while ("Click to reload QR code"): the socket is UNPAIRED_IDLE,
      // the last QR no longer links, and nothing changes until someone asks for a new one (refreshQr).
      state.idle = true;
      state.authCode = null;
      emit('conn.auth_code_change', null);
      emit('conn.qrcode_idle');
    } else if (event.type === 'linked') {
      closeStream();
      linked({ token: event.token, deviceId: event.deviceId, me: { wid: event.wid, pushName: event.pushName } });
    }
  }

  async function refreshQr() {
    if (!state.idle) return;
    state.idle = false;
    await post('/_wa/qr-refresh', { page: state.pageId });
  }
  sb.refreshQr = refreshQr;

  async function linked(creds) {
    await credentials.save(creds);
    localStorage.setItem('sandbox-seq', '0'); // a new device: after the reload, everything since the link
    state.authCode = null;
    emit('conn.auth_code_change', null);
    location.reload();
  }

  // ---- linked: one resumable event stream ----
  async function connect(creds, fresh) {
    state.creds = creds;
    let session;
    try {
      session = await post('/_wa/session', { webdriver: navigator.webdriver === true }, creds.token);
    } catch (error) {
      // The phone removed this device while the page was away or connecting: that is a logout too.
      if (error.status === 401) return loggedOut(true);
      return retryLater(creds, fresh);
    }
    if (!state.booted) await bootMain(session);
    const since = Number(localStorage.getItem('sandbox-seq') || session.seq);
    localStorage.setItem('sandbox-seq', String(since)); // where a later reconnect resumes from
    openStream('/_wa/events?token=' + encodeURIComponent(creds.token) + '&since=' + since, onLinkedEvent);
  }

  async function bootMain(session) {
    state.authenticated = true;
    state.me = session.me;
    emit('conn.main_init');
    const boot = await rpc('bootstrap', {});
    state.about = boot.about;
    state.blocked = boot.blocked;
    for (const raw of boot.chats) upsertChat(raw);
    emit('conn.main_loaded');
    state.booted = true; // stream mode MAIN waits for the event stream (see onLinkedEvent)
  }

  function retryLater(creds, fresh) {
    goOffline();
    state.retry = setTimeout(() => connect(creds, fresh), 1000);
  }

  function goOffline() {
    if (!state.online) return;
    state.online = false;
    emit('conn.stream_info_changed', 'OFFLINE');
    emit('conn.online', false);
  }

  function onLinkedEvent(event, seq) {
    if (seq) localStorage.setItem('sandbox-seq', String(seq));
    if (event.type === 'hello') {
      if (!state.online) {
        state.online = true;
        emit('conn.stream_info_changed', 'NORMAL');
        emit('conn.online', true);
      }
      if (!state.mainReady) {
        // MAIN only once the stream is live, so nothing sent to this device after that is missed.
        state.mainReady = true;
        setStreamMode('MAIN');
        document.dispatchEvent(new CustomEvent('sandbox:ready'));
      }
      return;
    }
    const handle = sb.handlers[event.type];
    if (handle) handle(event);
  }

  function openStream(url, onEvent) {
    closeStream();
    const source = new EventSource(url);
    state.source = source;
    source.onmessage = (message) => onEvent(JSON.parse(message.data), Number(message.lastEventId) || 0);
    // EventSource would reconnect by itself, but it cannot see HTTP statuses (401 = logged out, 503 = a
    // disconnect fault), so the page closes it and reconnects through connect(), which can.
    source.onerror = () => {
      if (state.source !== source) return;
      closeStream();
      if (state.creds) retryLater(state.creds, false);
      else state.retry = setTimeout(startQr, 1000);
    };
  }

  function closeStream() {
    clearTimeout(state.retry);
    if (state.source) state.source.close();
    state.source = null;
  }

  async function loggedOut(announce) {
    closeStream();
    await credentials.wipe();
    Object.assign(state, { creds: null, me: null, authenticated: false, booted: false, mainReady: false, online: false });
    if (announce) emit('conn.logout');
    document.dispatchEvent(new CustomEvent('sandbox:logout'));
    location.replace('/?post_logout=1');
  }
  sb.loggedOut = loggedOut;

  // ---- network events -> wa-js events ----
  const DECRYPT_MS = 30; // how long the page "decrypts" a received message
  const SYSTEM_TYPES = ['e2e_notification', 'gp2', 'call_log', 'notification_template'];
  function chatOf(msg) { return msg.id.remote._serialized; }

  sb.handlers = {
    message(event) {
      const msg = upsertMsg(event.msg);
      const isNewChat = !state.chats.has(chatOf(msg));
      const announce = (raw) => {
        const chat = upsertChat(raw);
        if (isNewChat) emit('chat.new_chat', chat);
      };
      // The server sends the chat as this phone sees it now; an event logged by an older sandbox has none.
      if (event.chat) announce(event.chat);
      else rpc('chat', { chat: chatOf(msg) }).then(announce).catch(() => {});
      if (state.emitted.has(msg.id._serialized)) return;
      state.emitted.add(msg.id._serialized);
      if (msg.id.fromMe || SYSTEM_TYPES.includes(msg.type)) {
        emit('chat.new_message', msg); // system messages are not end-to-end encrypted: no placeholder
        return;
      }
      // WhatsApp Web announces a received message before it has decrypted it: a `ciphertext` placeholder
      // with no content, then the same message again once decrypted (wa-js registerNewMessageEvent.ts).
      const placeholder = new sb.MsgModel({ ...event.msg, type: 'ciphertext', body: '', caption: undefined, mimetype: undefined });
      emit('chat.new_message', placeholder);
      setTimeout(() => emit('chat.new_message', msg), DECRYPT_MS);
    },
    ack(event) {
      const ids = event.ids.map((raw) => new MsgKey(raw));
      for (const key of ids) {
        const msg = state.msgs.get(key._serialized);
        if (msg) msg.ack = msg.raw.ack = event.ack;
      }
      emit('chat.msg_ack_change', { ack: event.ack, chat: new Wid(event.chat), ids });
    },
    revoke(event) {
      const refId = new MsgKey(event.refId);
      const msg = state.msgs.get(refId._serialized);
      if (msg) msg.update({ ...msg.raw, type: 'revoked', body: '' });
      const payload = { from: new Wid(event.from), id: new MsgKey(event.id), refId, to: new Wid(event.to), type: event.kind };
      if (event.refId.participant) payload.author = new Wid(event.from);
      emit('chat.msg_revoke', payload);
    },
    reaction(event) {
      const msgId = new MsgKey(event.msgId);
      const id = new MsgKey({ ...event.msgId, id: event.id, fromMe: event.fromMe, _serialized: event.msgId._serialized.replace(event.msgId.id, event.id) });
      emit('chat.new_reaction', {
        id, msgId, reactionText: event.reactionText, read: false, sender: new Wid(event.sender),
        orphan: 0, orphanReason: null, timestamp: event.t,
      });
    },
    edit(event) {
      const msg = upsertMsg(event.msg);
      emit('chat.msg_edited', { chat: msg.id.remote, id: msg.id._serialized, msg });
    },
    poll(event) {
      emit('chat.poll_response', {
        msgId: new MsgKey(event.msgId), chatId: new Wid(event.chatId), selectedOptions: event.selectedOptions,
        timestamp: event.t, sender: new Wid(event.sender),
      });
    },
    group(event) {
      const { type, ...payload } = event;
      emit('group.participant_changed', payload);
    },
    presence(event) {
      // registerPresenceChange.ts: `t` is Date.now() when the page saw it; a group's carries who is doing what.
      const states = { composing: 'typing', recording: 'recording_audio', paused: 'available' };
      const id = new Wid(event.chat);
      const state_ = states[event.state] || event.state;
      const data = {
        id, isOnline: event.state !== 'unavailable', isGroup: id.isGroup(), isUser: id.isUser(),
        shortName: '', state: state_, t: Date.now(),
      };
      if (id.isUser()) data.isContact = true;
      if (id.isGroup()) data.participants = [{ id: event.from, state: state_, shortName: '' }];
      emit('chat.presence_change', data);
    },
    call(event) {
      emit('call.incoming_call', {
        id: event.id, isGroup: event.isGroup, isVideo: event.isVideo, offerTime: event.offerTime,
        sender: new Wid(event.from), peerJid: new Wid(event.peerJid),
      });
    },
    stream_mode(event) { setStreamMode(event.mode); }, // e.g. TOS_BLOCK: WhatsApp banned the account
    blocklist(event) {
      state.blocked = event.blocked;
      emit('blocklist.sync');
    },
    logout() { loggedOut(true); },
    needs_update() { emit('conn.needs_update'); },
  };

  async function boot() {
    const creds = await credentials.load().catch(() => null);
    if (creds) return connect(creds, false);
    await credentials.wipe().catch(() => {}); // leftovers that cannot log in (no key, a half restore)
    startQr();
  }
  sb.boot = boot;
})();
