/*
 * The WhatsApp Web double, part 3: window.WPP with wa-js's names, parameters and result shapes
 * (@wppconnect/wa-js, dist/ .d.ts files). Every function declares all of its wa-js parameters, without
 * defaults, so Function.length equals the .d.ts parameter count (the contract test compares them).
 * Conversation functions live in wa-chat.js; this file has WPP itself, conn, contact, blocklist, group
 * and profile.
 */
(function () {
  'use strict';
  const sb = window.__waSandbox;
  const { emit, emitter, Wid, state, rpc, WPPError } = sb;

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

  function participantModels(metadata) {
    return metadata.participants.map((p) => ({ id: new Wid(p.id), isAdmin: p.isAdmin, isSuperAdmin: p.isSuperAdmin }));
  }

  const conn = {
    isAuthenticated() { return state.authenticated; },
    isMainInit() { return state.authenticated; },
    isMainLoaded() { return state.mainReady; },
    isMainReady() { return state.mainReady; },
    isOnline() { return state.online; },
    isIdle() { return false; },
    isRegistered() { return state.authenticated; },
    isMultiDevice() { return true; },
    needsUpdate() { return false; },
    async getAuthCode() { return state.authCode; },
    async refreshQR() { return state.authCode; },
    async genLinkDeviceCodeForPhoneNumber(phone, sendPushNotification) {
      if (state.authenticated) throw new WPPError('already_authenticated', 'the page is already linked');
      const data = await sb.post('/_wa/pairing-code', { page: state.pageId, phone: String(phone) });
      return data.code;
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

  async function changeParticipants(groupId, participantsIds, operation) {
    requireMain();
    return rpc('group.participants', { groupId: jid(groupId), participants: jids(participantsIds), operation });
  }

  async function requireAllOk(groupId, participantsIds, operation) {
    const results = await changeParticipants(groupId, participantsIds, operation);
    const failed = Object.entries(results).filter(([, code]) => code !== 200);
    if (failed.length) throw new WPPError('participant_' + operation + '_error', 'failed for ' + failed.map(([id]) => id).join(', '));
  }

  const group = {
    async create(groupName, participantsIds, parentGroup) {
      requireMain();
      const raw = await rpc('group.create', { name: groupName, participants: jids(participantsIds) });
      const participants = {};
      for (const [id, code] of Object.entries(raw.participants)) {
        participants[id] = { wid: id, code, invite_code: null, invite_code_exp: null };
      }
      return { gid: new Wid(raw.gid), participants };
    },
    async addParticipants(groupId, participantsIds) {
      const results = await changeParticipants(groupId, participantsIds, 'add');
      const out = {};
      for (const [id, code] of Object.entries(results)) {
        out[id] = { wid: id, code, message: code === 200 ? 'OK' : 'ERROR', invite_code: null, invite_code_exp: null };
      }
      return out;
    },
    async removeParticipants(groupId, participantsIds) { await requireAllOk(groupId, participantsIds, 'remove'); },
    async promoteParticipants(groupId, participantsIds) { await requireAllOk(groupId, participantsIds, 'promote'); },
    async demoteParticipants(groupId, participantsIds) { await requireAllOk(groupId, participantsIds, 'demote'); },
    async getParticipants(groupId) {
      requireMain();
      return participantModels(await rpc('group.metadata', { groupId: jid(groupId) }));
    },
    async getInviteCode(groupId) { requireMain(); return (await rpc('group.metadata', { groupId: jid(groupId) })).inviteCode; },
    async revokeInviteCode(groupId) { requireMain(); return rpc('group.revokeInvite', { groupId: jid(groupId) }); },
    async join(inviteCode) {
      requireMain();
      const code = String(inviteCode).replace(/^https?:\/\/chat\.whatsapp\.com\//, '');
      const raw = await rpc('group.join', { code });
      return { id: raw.id, pendingApproval: false };
    },
    async getGroupInfoFromInviteCode(inviteCode) {
      requireMain();
      const raw = await rpc('group.infoFromInvite', { code: String(inviteCode) });
      return { ...raw, size: raw.participants.length, announce: false, restrict: false };
    },
    async leave(groupId) { requireMain(); await rpc('group.leave', { groupId: jid(groupId) }); },
    async setSubject(groupId, subject) { requireMain(); return rpc('group.set', { groupId: jid(groupId), subject }); },
    async setDescription(groupId, description) { requireMain(); return rpc('group.set', { groupId: jid(groupId), description }); },
    async getAllGroups() {
      requireMain();
      const chats = await WPP.chat.list({ onlyGroups: true });
      return chats;
    },
    async iAmMember(groupId) { return (await group.getParticipants(groupId)).some((p) => p.id.equals(state.me.wid)); },
    async iAmAdmin(groupId) { return (await group.getParticipants(groupId)).some((p) => p.id.equals(state.me.wid) && p.isAdmin); },
    async iAmSuperAdmin(groupId) { return (await group.getParticipants(groupId)).some((p) => p.id.equals(state.me.wid) && p.isSuperAdmin); },
    async ensureGroup(groupId, checkIsAdmin) {
      const chat = await WPP.chat.find(groupId, undefined);
      if (!chat.isGroup) throw new WPPError('not_a_group', jid(groupId) + ' is not a group');
      if (checkIsAdmin && !(await group.iAmAdmin(groupId))) throw new WPPError('group_you_are_not_admin', 'not an admin');
      return chat;
    },
  };

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

  window.WPP = {
    isInjected: true, isReady: true, isFullReady: true,
    version: '4.6.0', supportedWhatsappWeb: '>=2.3000.0', license: 'Apache-2.0',
    on: emitter.on, off: emitter.off, once: emitter.once, removeListener: emitter.off,
    removeAllListeners: emitter.removeAllListeners, onAny: emitter.onAny, offAny: emitter.offAny,
    listenerCount: emitter.listenerCount, listeners: emitter.listeners, eventNames: emitter.eventNames,
    hasListeners: emitter.hasListeners, waitFor: emitter.waitFor,
    conn, contact, blocklist, group, profile, chat: {},
  };
  sb.jid = jid;
  sb.jids = jids;
  sb.requireMain = requireMain;
})();
