/*
 * The WhatsApp Web double, part 1: events, models, credentials and the connection to the sandbox network.
 *
 * Everything here is the page's own (window.__waSandbox, as WhatsApp Web's webpack modules are); the page has
 * no window.WPP. The WPP double (runner/sandbox/wpp/) is injected from outside, exactly as wa-js is injected
 * into WhatsApp Web, and builds window.WPP on top of these internals with wa-js's names and shapes.
 * Credentials live where and as WhatsApp Web keeps them: IndexedDB ("wawc", store "user"), sealed with a
 * non-extractable CryptoKey (IndexedDB "wawc_db_enc") and a salt in localStorage (see "credentials" below).
 */
(function () {
  'use strict';

  // Every event name the page's bus carries, named as wa-js names what it derives from them. emit() refuses
  // others, and the contract test checks this list against the event names declared in wa-js's .d.ts files.
  // conn.main_ready and conn.authenticated are not here: wa-js derives them (the WPP double does too).
  const EVENTS = [
    'conn.auth_code_change', 'conn.logout', 'conn.logout_reason', 'conn.main_init',
    'conn.main_loaded', 'conn.online', 'conn.qrcode_idle', 'conn.needs_update', 'conn.require_auth', 'conn.stream_info_changed',
    'conn.stream_mode_changed', 'chat.new_message', 'chat.new_chat', 'chat.msg_ack_change',
    'chat.msg_revoke', 'chat.new_reaction', 'chat.msg_edited', 'chat.poll_response', 'chat.presence_change',
    'chat.unread_count_changed', 'group.participant_changed', 'blocklist.sync', 'call.incoming_call',
  ];

  // ---- events: the page's internal bus (WhatsApp Web's stores signal changes; the injected WPP listens) ----
  const anyListeners = [];

  function emit(name, ...args) {
    if (!EVENTS.includes(name)) throw new Error('sandbox: undeclared event ' + name);
    for (const listener of [...anyListeners]) safely(listener, [name, ...args]);
    document.dispatchEvent(new CustomEvent('sandbox:event', { detail: { name, args } }));
  }

  function onAny(listener) { anyListeners.push(listener); }

  function safely(listener, args) {
    try {
      listener(...args);
    } catch (error) {
      console.error('sandbox: event listener failed', error); // a listener's bug must not stop the others
    }
  }

  // ---- models: the shapes of WhatsApp Web's Wid, MsgKey, MsgModel and ChatModel ----
  class Wid {
    constructor(serialized) {
      const [user, server] = String(serialized).split('@');
      this.server = server;
      this.user = user;
      this._serialized = String(serialized);
    }
    toString() { return this._serialized; }
    toJSON() { return this._serialized; }
    equals(other) { return other != null && String(other) === this._serialized; }
    isUser() { return this.server === 'c.us'; }
    isLid() { return this.server === 'lid'; }
    isGroup() { return this.server === 'g.us'; }
  }

  class MsgKey {
    constructor(raw) {
      this.fromMe = raw.fromMe;
      this.remote = new Wid(raw.remote);
      this.id = raw.id;
      if (raw.participant) this.participant = new Wid(raw.participant);
      this._serialized = raw._serialized;
    }
    toString() { return this._serialized; }
    // WhatsApp Web's MsgKey.fromString: `<fromMe>_<remote>_<id>[_<participant>]`.
    static fromString(serialized) {
      const [fromMe, remote, id, participant] = String(serialized).split('_');
      if (!remote || !id) throw new Error('MsgKey error: ' + serialized + ' is not a message key');
      return new MsgKey({ fromMe: fromMe === 'true', remote, id, participant, _serialized: String(serialized) });
    }
  }

  // Raw message fields that hold jids and become Wid objects, as on WhatsApp Web's MsgModel.
  const WID_FIELDS = ['from', 'to', 'author', 'quotedParticipant', 'quotedRemoteJid'];

  class MsgModel {
    constructor(raw) { this.update(raw); }
    update(raw) {
      Object.assign(this, raw);
      this.id = new MsgKey(raw.id);
      for (const field of WID_FIELDS) this[field] = raw[field] ? new Wid(raw[field]) : undefined;
      this.mentionedJidList = (raw.mentionedJidList || []).map((jid) => new Wid(jid));
      this.raw = raw;
      return this;
    }
    serialize() { return JSON.parse(JSON.stringify(this.raw)); }
    toJSON() { return this.serialize(); }
  }

  class ChatModel {
    constructor(raw) { this.update(raw); }
    update(raw) {
      Object.assign(this, raw);
      this.id = new Wid(raw.id);
      this.raw = raw;
      return this;
    }
    get kind() { return this.isGroup ? 'group' : 'chat'; }
    serialize() { return JSON.parse(JSON.stringify(this.raw)); }
    toJSON() { return this.serialize(); }
  }

  // ---- credentials: where and how WhatsApp Web keeps them ----
  // The device record lives in IndexedDB "wawc"/"user", its token sealed with AES-GCM under a non-extractable
  // CryptoKey kept in IndexedDB "wawc_db_enc" (WhatsApp Web's local key), bound to a salt in localStorage
  // ("WebEncKeySalt") as additional data. Only the browser profile's own files carry a CryptoKey across a
  // restart: Playwright's storage_state turns it into {} (microsoft/playwright#35946), so a context restored
  // from storage_state comes back unlinked and shows a QR, as WhatsApp Web does.
  const DB_NAME = 'wawc';
  const STORE = 'user';
  const KEY_DB = 'wawc_db_enc';
  const KEY_STORE = 'keys';
  const SALT = 'WebEncKeySalt';

  function openDb(name, store) {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function dbRequest(name, store, mode, action) {
    const db = await openDb(name, store);
    try {
      return await new Promise((resolve, reject) => {
        const request = action(db.transaction(store, mode).objectStore(store));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    } finally {
      db.close();
    }
  }

  // The local key, made on first use when `create`; null when there is none or what is stored is not a key.
  async function localKey(create) {
    const stored = await dbRequest(KEY_DB, KEY_STORE, 'readonly', (keys) => keys.get('local'));
    if (stored instanceof CryptoKey) return stored;
    if (!create) return null;
    const usages = ['encrypt', 'decrypt'];
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, usages);
    await dbRequest(KEY_DB, KEY_STORE, 'readwrite', (keys) => keys.put(key, 'local'));
    return key;
  }

  function salt(create) {
    if (create && !localStorage.getItem(SALT)) {
      const random = crypto.getRandomValues(new Uint8Array(16));
      localStorage.setItem(SALT, btoa(String.fromCharCode(...random)));
    }
    const value = localStorage.getItem(SALT);
    return value ? new TextEncoder().encode(value) : null;
  }

  const credentials = {
    async load() {
      const creds = await dbRequest(DB_NAME, STORE, 'readonly', (store) => store.get('creds'));
      const [key, additionalData] = [await localKey(false), salt(false)];
      if (!creds || !creds.token || !key || !additionalData) return null;
      try {
        const { iv, sealed } = creds.token;
        const token = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, sealed);
        return { ...creds, token: new TextDecoder().decode(token) };
      } catch (error) {
        return null; // sealed under another key or salt: this browser is not that device any more
      }
    },
    async save(creds) {
      const [key, additionalData] = [await localKey(true), salt(true)];
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const plain = new TextEncoder().encode(creds.token);
      const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, plain);
      const record = { ...creds, token: { iv, sealed: new Uint8Array(sealed) } };
      await dbRequest(DB_NAME, STORE, 'readwrite', (store) => store.put(record, 'creds'));
      localStorage.setItem('last-wid-md', JSON.stringify(creds.deviceId));
      localStorage.setItem('WABrowserId', JSON.stringify(creds.deviceId.split(':')[1]));
    },
    async wipe() {
      await dbRequest(DB_NAME, STORE, 'readwrite', (store) => store.clear());
      await dbRequest(KEY_DB, KEY_STORE, 'readwrite', (keys) => keys.clear());
      for (const key of ['last-wid-md', 'WABrowserId', 'sandbox-seq', SALT]) localStorage.removeItem(key);
    },
  };

  // ---- talking to the network ----
  class WPPError extends Error {
    constructor(code, message) {
      super(message || code);
      this.code = code;
      this.name = 'WPPError';
    }
  }

  async function post(path, body, token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    let response;
    try {
      response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body || {}) });
    } catch (error) {
      throw new WPPError('offline', 'the sandbox network cannot be reached');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new WPPError(data.error || 'error', data.message), { status: response.status });
    return data;
  }

  // wa-js puts `quotedMsgId` on MsgModel's prototype (registerNewMessageEvent.ts): a getter over
  // quotedStanzaID, quotedParticipant and quotedRemoteJid (getQuotedMsgKey.ts), so serialize() never has it,
  // and reading it on a message that quotes nothing throws. Our own id counts by LID too (addAttributesMsg
  // fixes the key from the quoted message itself when it is in the store).
  Object.defineProperty(MsgModel.prototype, 'quotedMsgId', {
    configurable: true,
    get() {
      if (!this.quotedStanzaID) {
        throw new WPPError('message_not_have_a_reply', 'Message ' + this.id + ' does not have a reply');
      }
      const remote = String(this.quotedRemoteJid || this.id.remote);
      const participant = this.quotedParticipant ? String(this.quotedParticipant) : undefined;
      const me = (window.__waSandbox.state || {}).me;
      const fromMe = !!me && !!participant && (participant === me.wid || participant === me.lid);
      const keyed = remote.endsWith('@g.us') || remote === 'status@broadcast';
      const part = keyed ? participant : undefined;
      const serialized = fromMe + '_' + remote + '_' + this.quotedStanzaID + (part ? '_' + part : '');
      return new MsgKey({ fromMe, remote, id: this.quotedStanzaID, participant: part, _serialized: serialized });
    },
  });

  window.__waSandbox = {
    EVENTS, emit, onAny, Wid, MsgKey, MsgModel, ChatModel, WPPError, credentials, post,
  };
})();
