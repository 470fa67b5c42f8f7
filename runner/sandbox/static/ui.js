/*
 * The sandbox page's own UI: the QR screen and a minimal chat view. Like WhatsApp Web's own UI it uses the
 * page's internals (window.__waSandbox) and DOM events (sandbox:qr, sandbox:ready, sandbox:logout), never
 * window.WPP, which only exists when a client injects it.
 */
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const sb = window.__waSandbox;
  const TICKS = { '-1': '!', 0: '🕓', 1: '✓', 2: '✓✓', 3: '✓✓ read', 4: '✓✓ played' };
  let current = null;

  function show(id) {
    $('landing').hidden = id !== 'landing';
    $('app').hidden = id !== 'app';
  }

  document.addEventListener('sandbox:qr', (event) => {
    show('landing');
    $('qr').src = event.detail.svg;
    $('qr').dataset.ref = event.detail.ref;
    $('qr-raw').value = event.detail.qr;
    $('qr-ref').textContent = 'Refreshes every ' + event.detail.interval + ' s';
    $('status').textContent = 'Waiting for a phone to link';
  });

  $('pair').addEventListener('submit', async (event) => {
    event.preventDefault();
    const phone = new FormData(event.target).get('phone');
    try {
      const answer = await sb.post('/_wa/pairing-code', { page: sb.state.pageId, phone: String(phone) });
      $('pair-code').textContent = answer.code;
    } catch (error) {
      $('pair-code').textContent = error.message;
    }
  });

  document.addEventListener('sandbox:ready', () => {
    show('app');
    const me = sb.state.me;
    $('me').textContent = me.pushName + ' (' + me.wid.split('@')[0] + ')';
    $('status').textContent = 'Connected';
    renderChats();
  });
  document.addEventListener('sandbox:logout', () => { current = null; $('status').textContent = 'Logged out'; });

  async function renderChats() {
    const chats = (await sb.rpc('chats', {})).map((raw) => new sb.ChatModel(raw));
    $('chats').replaceChildren(...chats.map((chat) => {
      const li = document.createElement('li');
      li.textContent = chat.name || chat.id.user;
      if (chat.unreadCount > 0) {
        const badge = document.createElement('span');
        badge.className = 'unread';
        badge.textContent = chat.unreadCount;
        li.append(badge);
      }
      li.classList.toggle('active', current === chat.id._serialized);
      li.onclick = () => openChat(chat.id._serialized, chat.name || chat.id.user);
      return li;
    }));
  }

  async function openChat(id, title) {
    current = id;
    $('chat-title').textContent = title;
    await sb.rpc('read', { chat: id });
    await renderMessages();
    renderChats();
  }

  async function renderMessages() {
    if (!current) return;
    const messages = await sb.rpc('messages', { chat: current, count: 100 });
    $('messages').replaceChildren(...messages.map((msg) => {
      const li = document.createElement('li');
      li.className = msg.id.fromMe ? 'me' : '';
      li.textContent = msg.type === 'chat' ? msg.body : '[' + msg.type + '] ' + (msg.caption || msg.filename || '');
      if (msg.id.fromMe) {
        const ack = document.createElement('span');
        ack.className = 'ack';
        ack.textContent = TICKS[msg.ack] || '';
        li.append(ack);
      }
      return li;
    }));
    $('messages').scrollTop = $('messages').scrollHeight;
  }

  $('compose').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    if (!current || !input.value) return;
    await sb.rpc('send', { chat: current, text: input.value });
    input.value = '';
  });

  // Re-render at most every RENDER_EVERY_MS, not per event: each render asks the server for the chat list,
  // and a page sending dozens of messages a second (a runner driving it) would spend most of its time, and
  // the sandbox's, on a view nobody looks at. A person sees the change within a fraction of a second.
  const RENDER_EVERY_MS = 300;
  let renderTimer = null;
  function scheduleRender() {
    if (renderTimer !== null) return;
    renderTimer = setTimeout(() => {
      renderTimer = null;
      renderChats();
      renderMessages();
    }, RENDER_EVERY_MS);
  }
  const RENDERED_BY = ['chat.new_message', 'chat.msg_ack_change', 'chat.msg_revoke', 'chat.msg_edited'];
  sb.onAny((name, ...args) => {
    if (RENDERED_BY.includes(name)) scheduleRender();
    if (name === 'conn.online') $('status').textContent = args[0] ? 'Connected' : 'Reconnecting…';
  });

  sb.boot();
})();
