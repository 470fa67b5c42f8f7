/*
 * The WPP double, part 1: the loader, the event emitter, and WPP.conn, contact, blocklist and profile.
 *
 * Not part of the sandbox page: the engine injects these files into it exactly as it injects wa-js into
 * WhatsApp Web (context init scripts, before the page's own scripts run), so the same code path is tested.
 * Like wa-js, it defines window.WPP at once with isReady false; once the page's internals are loaded
 * (window.__waSandbox, the sandbox's stand-in for WhatsApp Web's webpack modules) it attaches, becomes
 * ready (WPP.loader.onReady) and derives the events wa-js derives:
 *   - conn.main_ready on the first stream mode QR *or* MAIN of a page load, once, after which
 *     isMainReady() stays true (wa-js registerMainReadyEvent.ts, #3339/#3417);
 *   - conn.authenticated on main_loaded only when the page was not registered when WPP was injected
 *     (registerAuthenticatedEvent.ts: a restored session never fires it);
 *   - the current stream mode and auth code at attach time (registerStreamEvent.ts,
 *     registerAuthCodeChangeEvent.ts).
 * Every function declares all of its wa-js parameters, without defaults, so Function.length equals the
 * .d.ts parameter count (the contract test compares them). Conversations are in wa-chat.js, groups in
 * wa-group.js.
 */
(function () {
  'use strict';
  if (window.WPP) return; // injected once per document

  // ---- the event emitter (the subset of EventEmitter2 that wa-js re-exports and engines use) ----
  const listeners = new Map();
  const anyListeners = [];

  function emit(name, ...args) {
    for (const listener of [...(listeners.get(name) || [])]) safely(listener, args);
    for (const listener of [...anyListeners]) safely(listener, [name, ...args]);
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

  // ---- the loader: ready once the page's internals are there ----
  const waiting = { injected: [], ready: [], full_ready: [] };
  function onLoader(kind) {
    return function (listener, delay) {
      if (WPP[kind === 'injected' ? 'isInjected' : kind === 'ready' ? 'isReady' : 'isFullReady']) setTimeout(listener, delay || 0);
      else waiting[kind].push(() => setTimeout(listener, delay || 0));
    };
  }

  const WPP = {
    isInjected: true, isReady: false, isFullReady: false,
    version: '4.6.0', supportedWhatsappWeb: '>=2.3000.0', license: 'Apache-2.0',
    on: emitter.on, off: emitter.off, once: emitter.once, removeListener: emitter.off,
    removeAllListeners: emitter.removeAllListeners, onAny: emitter.onAny, offAny: emitter.offAny,
    listenerCount: emitter.listenerCount, listeners: emitter.listeners, eventNames: emitter.eventNames,
    hasListeners: emitter.hasListeners, waitFor: emitter.waitFor,
    loader: { onInjected: onLoader('injected'), onReady: onLoader('ready'), onFullReady: onLoader('full_ready') },
  };
  window.WPP = WPP;

  // Builders of the namespaces, run when the internals are there (this file's, then wa-chat.js's).
  const parts = [];
  const derived = { mainReady: false, registeredAtInjection: false };
  window.__wppDouble = { part(build) { parts.push(build); }, derived };

  function isRegistered() { return localStorage.getItem('last-wid-md') !== null; }

  // wa-js's defaults (dist/config/defaultConfig.d.ts) under what the client set before injection.
  const DEFAULT_CONFIG = {
    deviceName: false, liveLocationLimit: 10, disableGoogleAnalytics: false, googleAnalyticsId: null,
    googleAnalyticsUserProperty: {}, linkPreviewApiServers: null, poweredBy: 'WA-JS',
    sendStatusToDevice: false, syncAllStatus: true,
  };
  WPP.config = Object.assign({}, DEFAULT_CONFIG, window.WPPConfig || {});

  // wa-js src/gtag: unless disabled, beacons about the account (injection, login, logout) go to Google.
  function beacon(event) {
    if (WPP.config.disableGoogleAnalytics) return;
    const body = JSON.stringify({ event, version: WPP.version });
    fetch('/_wa/gtag', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).catch(() => {});
  }
  const BEACONS = { 'conn.main_ready': 'main_ready', 'conn.authenticated': 'login', 'conn.logout': 'logout' };
  emitter.onAny((name) => { if (BEACONS[name]) beacon(BEACONS[name]); });

  function attach(sb) {
    beacon('injected');
    derived.registeredAtInjection = isRegistered();
    for (const build of parts) build(sb, emit);
    sb.onAny((name, ...args) => {
      if (name === 'conn.main_loaded' && !derived.registeredAtInjection) emit('conn.authenticated');
      emit(name, ...args);
      if (name === 'conn.stream_mode_changed') streamMode(args[0]);
    });
    WPP.isReady = WPP.isFullReady = true;
    emit('loader.ready');
    for (const run of [...waiting.ready, ...waiting.full_ready]) run();
    if (sb.state.streamMode) {
      emit('conn.stream_mode_changed', sb.state.streamMode);
      streamMode(sb.state.streamMode);
    }
    if (sb.state.authCode) emit('conn.auth_code_change', sb.state.authCode);
  }

  function streamMode(mode) {
    if ((mode === 'QR' || mode === 'MAIN') && !derived.mainReady) {
      derived.mainReady = true;
      emit('conn.main_ready');
    }
  }

  // The page's scripts are classic scripts: all of them have run by DOMContentLoaded.
  document.addEventListener('DOMContentLoaded', () => { if (window.__waSandbox) attach(window.__waSandbox); });
})();

window.__wppDouble.part(function (sb, emit) {
  'use strict';
  const { Wid, state, rpc, WPPError } = sb;

  function jid(value) {
    if (value == null) throw new WPPError('invalid_wid', 'missing chat id');
    const text = String(value._serialized || value).trim();
    if (/^\+?\d+$/.test(text)) return text.replace('+', '') + '@c.us';
    return text.replace('@s.whatsapp.net', '@c.us');
  }

  function jids(value) { return (Array.isArray(value) ? value : [value]).map(jid); }

  function requireMain() {
    if (!state.mainReady) throw new WPPError('not_ready', 'WhatsApp is not ready (not linked yet)');
  }

  const MAX_LINK_CODE_REFRESHES = 5;
  const LINK_CODE_MARGIN_MS = 250; // refreshed just before the network stops taking it
  const linkCode = { phone: null, code: null, refreshes: 0, timer: 0 };

  async function requestLinkCode(phone) {
    if (state.authenticated) throw new WPPError('already_authenticated', 'the page is already linked');
    return sb.post('/_wa/pairing-code', { page: state.pageId, phone: String(phone) });
  }

  const conn = {
    isAuthenticated() { return state.authenticated; },
    isMainInit() { return state.authenticated; },
    isMainLoaded() { return state.booted; },
    isMainReady() { return window.__wppDouble.derived.mainReady; },
    isOnline() { return state.online; },
    isIdle() { return !!state.idle; },
    isRegistered() { return localStorage.getItem('last-wid-md') !== null; },
    getStreamData() { return { mode: state.streamMode, info: state.online ? 'NORMAL' : 'OFFLINE' }; },
    isMultiDevice() { return true; },
    needsUpdate() { return false; },
    async getAuthCode() { return state.authCode; },
    async refreshQR() {
      // wa-js refreshQR.ts: Cmd.refreshQR(), then the next conn.auth_code_change's code.
      if (state.authenticated || conn.isRegistered()) return null;
      const next = window.WPP.waitFor('conn.auth_code_change');
      await sb.refreshQr();
      return state.idle === false && state.authCode ? state.authCode : (await next)[0];
    },
    async genLinkDeviceCodeForPhoneNumber(phone, sendPushNotification) {
      return (await requestLinkCode(phone)).code;
    },
    // wa-js linkDeviceCodeLifecycle.ts: a code is refreshed before it expires (up to 5 times, each a
    // conn.link_code_change), then conn.link_code_expired.
    async startLinkDeviceCodeForPhoneNumber(phone, sendPushNotification) {
      conn.cancelLinkDeviceCode();
      Object.assign(linkCode, { phone: String(phone), refreshes: 0 });
      return conn.refreshLinkDeviceCode();
    },
    async refreshLinkDeviceCode() {
      if (!linkCode.phone) throw new WPPError('no_link_code_flow', 'No phone linking flow is active');
      const { code, expiresIn } = await requestLinkCode(linkCode.phone);
      linkCode.code = code;
      emit('conn.link_code_change', code);
      clearTimeout(linkCode.timer);
      linkCode.timer = setTimeout(() => {
        if (linkCode.refreshes >= MAX_LINK_CODE_REFRESHES) {
          linkCode.code = null;
          emit('conn.link_code_expired');
          return;
        }
        linkCode.refreshes += 1;
        conn.refreshLinkDeviceCode().catch((error) => emit('conn.link_code_error', error));
      }, Math.max(expiresIn * 1000 - LINK_CODE_MARGIN_MS, 0));
      return code;
    },
    cancelLinkDeviceCode() {
      clearTimeout(linkCode.timer);
      Object.assign(linkCode, { phone: null, code: null, refreshes: 0, timer: 0 });
    },
    async logout() {
      if (!state.creds) return false;
      await rpc('logout', {});
      emit('conn.logout_reason', 'user_initiated');
      await sb.loggedOut(true);
      return true;
    },
    getMyUserId() { return state.me ? new Wid(state.me.wid) : undefined; },
    getMyUserWid() { return state.me ? new Wid(state.me.wid) : undefined; },
    getMyUserLid() { return state.me && state.me.lid ? new Wid(state.me.lid) : undefined; },
    getMyDeviceId() { return state.creds ? new Wid(state.creds.deviceId) : undefined; },
    getPlatform() { return 'web'; },
    setKeepAlive(enable) { return enable !== false; },
    async markAvailable(available) { return available !== false; },
    async markUnavailable() { return true; },
  };

  const contact = {
    async get(contactId) { requireMain(); return rpc('contact', { id: jid(contactId) }).then(contactModel); },
    async list(options) {
      requireMain();
      return (await rpc('contacts', {})).map(contactModel);
    },
    async queryWidExists(contactId) {
      requireMain();
      const found = await rpc('queryExists', { id: jid(contactId) });
      return found ? { wid: new Wid(found.wid), biz: found.biz } : null;
    },
    async getStatus(contactId) { requireMain(); return rpc('about', { id: jid(contactId) }); },
    // PnLidEntryResult {lid, phoneNumber, contact} for a phone jid or a LID (getPnLidEntry.d.ts).
    async getPnLidEntry(contactId) { requireMain(); return rpc('pnLid', { id: jid(contactId) }); },
    async getProfilePictureUrl(contactId, full) {
      requireMain();
      const path = await rpc('picture', { id: jid(contactId) });
      return path ? location.origin + path : undefined;
    },
    async subscribePresence(ids) { return jids(ids).map((id) => new Wid(id)); },
    async unsubscribePresence(ids) { return jids(ids).map((id) => new Wid(id)); },
  };

  function contactModel(raw) { return raw ? { ...raw, id: new Wid(raw.id) } : undefined; }

  const blocklist = {
    all() { return state.blocked.map((id) => new Wid(id)); },
    isBlocked(chatId) { return state.blocked.includes(jid(chatId)); },
    async blockContact(chatId) { return blockResult(await rpc('block', { id: jid(chatId), blocked: true })); },
    async unblockContact(chatId) { return blockResult(await rpc('block', { id: jid(chatId), blocked: false })); },
  };

  function blockResult(raw) {
    state.blocked = raw.isBlocked ? [...new Set([...state.blocked, raw.wid])] : state.blocked.filter((id) => id !== raw.wid);
    return { wid: new Wid(raw.wid), isBlocked: raw.isBlocked };
  }

  const profile = {
    getMyProfileName() { return state.me ? state.me.pushName : undefined; },
    async setMyProfileName(name) {
      requireMain();
      state.me.pushName = (await rpc('profile', { name })).name;
      return true;
    },
    async getMyStatus() { requireMain(); return (await rpc('profile', {})).about; },
    async setMyStatus(statusText) { requireMain(); await rpc('profile', { about: statusText }); return true; },
    isBusiness() { return false; },
  };

  Object.assign(window.WPP, { conn, contact, blocklist, profile, chat: {} });
  sb.jid = jid;
  sb.jids = jids;
  sb.requireMain = requireMain;
});
