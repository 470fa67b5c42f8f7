/*
 * The WhatsApp Web double, part 1: events, models, credentials and the connection to the sandbox network.
 *
 * Everything here is private (window.__waSandbox); wa-api.js builds the public window.WPP on top of it with
 * wa-js's names and shapes. Credentials live where WhatsApp Web keeps them, IndexedDB ("wawc", store "user")
 * plus localStorage ("last-wid-md"), so a context restored from Playwright's storage_state(indexed_db=True)
 * comes back linked, and one without them shows a QR.
 */
(function () {
  'use strict';

  // Every event name this double can emit. emit() refuses others, and the contract test checks this list
  // against the event names declared in wa-js's .d.ts files.
  const EVENTS = [
    'conn.auth_code_change', 'conn.authenticated', 'conn.logout', 'conn.logout_reason', 'conn.main_init',
    'conn.main_loaded', 'conn.main_ready', 'conn.online', 'conn.require_auth', 'conn.stream_info_changed',
    'conn.stream_mode_changed', 'chat.new_message', 'chat.new_chat', 'chat.msg_ack_change',
    'chat.msg_revoke', 'chat.new_reaction', 'chat.msg_edited', 'chat.poll_response', 'chat.presence_change',
    'chat.unread_count_changed', 'group.participant_changed', 'blocklist.sync',
  ];

  // ---- events (the subset of EventEmitter2 that wa-js re-exports and engines use) ----
  const listeners = new Map();
  const anyListeners = [];

  function emit(name, ...args) {
    if (!EVENTS.includes(name)) throw new Error('sandbox: undeclared event ' + name);
    for (const listener of [...(listeners.get(name) || [])]) safely(listener, args);
    for (const listener of [...anyListeners]) safely(listener, [name, ...args]);
    document.dispatchEvent(new CustomEvent('sandbox:event', { detail: { name, args } }));
  }

  function safely(listener, args) {
    try {
      listener(...args);
    } catch (error) {
      console.error('WPP listener failed', error); // a listener's bug must not stop the others
    }
  }

  const emitter = {
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(listener);
      return emitter;
    },
    off(event, listener) {
      const list = listeners.get(event) || [];
      const index = list.indexOf(listener);
      if (index >= 0) list.splice(index, 1);
      return emitter;
    },
    once(event, listener) {
      const wrapper = (...args) => { emitter.off(event, wrapper); listener(...args); };
      return emitter.on(event, wrapper);
    },
    removeAllListeners(event) {
      if (event === undefined) listeners.clear(); else listeners.delete(event);
      return emitter;
    },
    onAny(listener) { anyListeners.push(listener); return emitter; },
    offAny(listener) {
      const index = anyListeners.indexOf(listener);
      if (index >= 0) anyListeners.splice(index, 1);
      return emitter;
    },
    listenerCount(event) { return (listeners.get(event) || []).length; },
    listeners(event) { return [...(listeners.get(event) || [])]; },
    eventNames() { return [...listeners.keys()].filter((name) => listeners.get(name).length); },
    hasListeners(event) { return event ? emitter.listenerCount(event) > 0 : listeners.size > 0; },
    waitFor(event, options) {
      const timeout = typeof options === 'number' ? options : (options && options.timeout) || 0;
      return new Promise((resolve, reject) => {
        const done = (...args) => { clearTimeout(timer); resolve(args); };
        const timer = timeout ? setTimeout(() => { emitter.off(event, done); reject(new Error('timeout')); }, timeout) : 0;
        emitter.once(event, done);
      });
    },
  };

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
  }

  // Raw message fields that hold jids and become Wid objects, as on WhatsApp Web's MsgModel.
  const WID_FIELDS = ['from', 'to', 'author', 'quotedParticipant'];

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

  // ---- credentials: IndexedDB "wawc"/"user" plus localStorage, like WhatsApp Web ----
  const DB_NAME = 'wawc';
  const STORE = 'user';

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function dbRequest(mode, action) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const request = action(db.transaction(STORE, mode).objectStore(STORE));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    } finally {
      db.close();
    }
  }

  const credentials = {
    async load() {
      const creds = await dbRequest('readonly', (store) => store.get('creds'));
      return creds && creds.token ? creds : null;
    },
    async save(creds) {
      await dbRequest('readwrite', (store) => store.put(creds, 'creds'));
      localStorage.setItem('last-wid-md', JSON.stringify(creds.deviceId));
      localStorage.setItem('WABrowserId', JSON.stringify(creds.deviceId.split(':')[1]));
    },
    async wipe() {
      await dbRequest('readwrite', (store) => store.clear());
      for (const key of ['last-wid-md', 'WABrowserId', 'sandbox-seq']) localStorage.removeItem(key);
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

  window.__waSandbox = {
    EVENTS, emit, emitter, Wid, MsgKey, MsgModel, ChatModel, WPPError, credentials, post,
  };
})();
