// Injected into every document after wa-js (context init scripts, so it runs again after every navigation
// and before the page's own scripts). Subscribes at once to the wa-js events the engine maps (window.WPP
// exists as soon as wa-js is injected, before it is ready, so nothing it emits is missed) and forwards each,
// in order, through the `__owaEvent` binding. Once wa-js is ready (WPP.loader.onReady: before it, functions
// like WPP.conn.isAuthenticated throw) it sends one `owa.state` with what it finds: a restored session
// fires no conn.authenticated, and conn.main_ready may have fired on the QR screen (wa-js #3339), so the
// engine decides from this state and conn.stream_mode_changed, not from those events alone.
(() => {
  'use strict';
  if (window.top !== window || window.__owaBridge) return;
  window.__owaBridge = true;
  const EVENTS = [
    'conn.auth_code_change', 'conn.authenticated', 'conn.logout', 'conn.logout_reason', 'conn.main_ready',
    'conn.online', 'conn.require_auth', 'conn.stream_mode_changed', 'conn.qrcode_idle', 'conn.needs_update',
    'conn.link_code_change', 'conn.link_code_expired', 'conn.link_code_error',
    'chat.new_message', 'chat.msg_ack_change', 'chat.msg_revoke', 'chat.new_reaction', 'chat.msg_edited',
    'call.incoming_call', 'chat.presence_change',
  ];
  // Not forwarded: group.participant_changed (gp2 messages say the same, and more), chat.poll_response
  // (OpenWA has no event for poll votes; see docs/engine-fidelity.md).

  function plain(value) {
    if (value === undefined || value === null) return null;
    if (value instanceof Error) return { error: value.message };
    const source = typeof value.serialize === 'function' ? value.serialize() : value;
    let copy;
    try {
      copy = JSON.parse(JSON.stringify(source));
    } catch (error) {
      return String(source); // a circular native model: its string form is still an id
    }
    const quoted = quotedKey(value);
    if (quoted && copy && typeof copy === 'object') copy.quotedMsgId = quoted;
    return copy;
  }

  // A reply's quoted key is not in MsgModel.serialize(): wa-js defines `quotedMsgId` as a prototype getter
  // (registerNewMessageEvent.ts; it throws when nothing is quoted). Without it, the key is rebuilt from the
  // serialized quotedStanzaID / quotedParticipant / quotedRemoteJid as wa-js getQuotedMsgKey.ts does.
  function quotedKey(msg) {
    if (!msg || typeof msg.serialize !== 'function' || !msg.quotedStanzaID) return null;
    const key = attempt(() => msg.quotedMsgId, null);
    if (key) return String(key._serialized || key);
    const remote = String(msg.quotedRemoteJid || (msg.id && msg.id.remote) || '');
    const participant = msg.quotedParticipant ? String(msg.quotedParticipant) : '';
    const me = attempt(() => String(window.WPP.conn.getMyUserId()), '');
    const keyed = remote.endsWith('@g.us') || remote === 'status@broadcast';
    const base = (participant !== '' && participant === me) + '_' + remote + '_' + msg.quotedStanzaID;
    return keyed && participant ? base + '_' + participant : base;
  }

  function forward(name, payload) {
    try {
      window.__owaEvent(name, payload);
    } catch (error) {
      console.error('openwa bridge: cannot forward', name, error);
    }
  }

  function attempt(read, fallback) {
    try {
      return read();
    } catch (error) {
      return fallback;
    }
  }

  async function currentState(WPP) {
    const code = await Promise.resolve(attempt(() => WPP.conn.getAuthCode(), null)).catch(() => null);
    const stream = attempt(() => WPP.conn.getStreamData(), null);
    return {
      registered: !!attempt(() => WPP.conn.isRegistered(), false),
      authenticated: !!attempt(() => WPP.conn.isAuthenticated(), false),
      streamMode: stream && stream.mode ? String(stream.mode) : null,
      online: !!attempt(() => WPP.conn.isOnline(), false),
      qr: code && code.fullCode ? code.fullCode : null,
      url: location.href,
    };
  }

  function attach() {
    const WPP = window.WPP;
    if (!WPP || typeof WPP.on !== 'function' || !WPP.loader) return false;
    for (const name of EVENTS) {
      WPP.on(name, (...args) => forward(name, args.length > 1 ? args.map(plain) : plain(args[0])));
    }
    WPP.loader.onReady(() => {
      window.__owaAttached = true;
      currentState(WPP).then((state) => forward('owa.state', state));
    });
    return true;
  }

  if (!attach()) {
    const timer = setInterval(() => { if (attach()) clearInterval(timer); }, 20);
  }
})();
