// Injected into every page before its own scripts (context.add_init_script). Waits for window.WPP (native in
// the sandbox, injected wa-js on WhatsApp Web), subscribes to the wa-js events the engine maps, and forwards
// each one, in order, through the `__owaEvent` binding. After subscribing it sends one `owa.state` with the
// connection's current state, computed after any event already sent, so nothing emitted before the
// subscription is missed.
(() => {
  'use strict';
  if (window.top !== window) return;
  const EVENTS = [
    'conn.auth_code_change', 'conn.authenticated', 'conn.logout', 'conn.main_ready', 'conn.online',
    'conn.require_auth', 'chat.new_message', 'chat.msg_ack_change', 'chat.msg_revoke', 'chat.new_reaction',
    'chat.msg_edited',
  ];

  function plain(value) {
    if (value === undefined || value === null) return null;
    const source = typeof value.serialize === 'function' ? value.serialize() : value;
    try {
      return JSON.parse(JSON.stringify(source));
    } catch (error) {
      return String(source); // a circular native model: its string form is still an id
    }
  }

  function forward(name, payload) {
    try {
      window.__owaEvent(name, payload);
    } catch (error) {
      console.error('openwa bridge: cannot forward', name, error);
    }
  }

  async function currentState(WPP) {
    const code = await Promise.resolve(WPP.conn.getAuthCode()).catch(() => null);
    const me = WPP.conn.getMyUserId ? WPP.conn.getMyUserId() : undefined;
    return {
      mainReady: !!WPP.conn.isMainReady(),
      authenticated: !!WPP.conn.isAuthenticated(),
      qr: code && code.fullCode ? code.fullCode : null,
      wid: me ? String(me._serialized || me) : null,
    };
  }

  function attach() {
    const WPP = window.WPP;
    if (!WPP || typeof WPP.on !== 'function' || !WPP.conn || window.__owaAttached) return false;
    window.__owaAttached = true;
    for (const name of EVENTS) {
      WPP.on(name, (...args) => forward(name, args.length > 1 ? args.map(plain) : plain(args[0])));
    }
    currentState(WPP).then((state) => forward('owa.state', state));
    return true;
  }

  if (!attach()) {
    const timer = setInterval(() => { if (attach()) clearInterval(timer); }, 20);
  }
})();
