/*
 * The WPP double, part 3 (injected after wa-api.js): WPP.group, as wa-js's dist/group/functions declares it.
 * Same checks before anything reaches the server, with wa-js's error codes: ensureGroup (chat_not_found,
 * not_a_group, group_you_are_not_admin unless the member-add mode is all_member_add), create's
 * participant_not_exists, remove/promote/demote's participant checks, setSubject/setDescription/setProperty's
 * "allowed" checks (a locked group is admins' only), setIcon's restricted member, invalid_invite_code. Results
 * have wa-js's shapes: addParticipants' per-participant {wid, code, message, invite_code, invite_code_exp}
 * with wa-js's messages, join's {id, pendingApproval}, approve/reject's [{error, wid}].
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { Wid, state, rpc, WPPError, jid, jids, requireMain, upsertChat } = sb;

  // wa-js addParticipants.ts: the message of each per-participant code.
  const ADD_MESSAGES = {
    200: 'OK',
    403: "Can't join this group because the number was restricted it.",
    409: "Can't join this group because the number is already a member of it.",
    421: 'Member not added, awaiting approval!',
  };
  const EPHEMERAL = [0, 86400, 604800, 7776000];

  function isMe(id) {
    return !!state.me && (id === state.me.wid || id === state.me.lid);
  }

  function myRole(meta) {
    return meta.participants.find((p) => isMe(p.id)) || { isAdmin: false, isSuperAdmin: false };
  }

  // wa-js ensureGroup.ts over assertGetChat: the chat must be known and be a group; with checkIsAdmin, we must
  // be an admin unless every member may add people.
  async function metadataOf(groupId, checkIsAdmin) {
    requireMain();
    const id = jid(groupId);
    if (!id.endsWith('@g.us')) {
      if (state.chats.has(id)) throw new WPPError('not_a_group', 'Chat ' + id + ' is not a group');
      throw new WPPError('chat_not_found', 'Chat not found for ' + id);
    }
    let meta;
    try {
      meta = await rpc('group.metadata', { groupId: id });
    } catch (error) {
      if (error && error.code === 'group_not_found') throw new WPPError('chat_not_found', 'Chat not found for ' + id);
      throw error;
    }
    if (checkIsAdmin && !myRole(meta).isAdmin && meta.memberAddMode !== 'all_member_add') {
      throw new WPPError('group_you_are_not_admin', 'You are not admin in ' + id);
    }
    return meta;
  }

  function participantModels(meta) {
    return meta.participants.map((p) => ({ id: new Wid(p.id), isAdmin: p.isAdmin, isSuperAdmin: p.isSuperAdmin }));
  }

  function find(meta, id) { return meta.participants.find((p) => p.id === id); }

  async function ensureParticipants(groupId, participantsIds) {
    const meta = await metadataOf(groupId, true);
    const wanted = jids(participantsIds);
    for (const id of wanted) {
      if (!find(meta, id)) throw new WPPError('group_participant_not_found', 'Group ' + meta.id + ": Participant '" + id + "' not found");
    }
    return { meta, wanted };
  }

  async function change(meta, ids, operation) {
    const results = await rpc('group.participants', { groupId: meta.id, participants: ids, operation });
    const failed = Object.entries(results).filter(([, code]) => code !== 200);
    if (failed.length) throw new WPPError('participant_' + operation + '_error', 'failed for ' + failed.map(([id]) => id).join(', '));
  }

  function inviteCodeOf(inviteCode) {
    return String(inviteCode).replace('chat.whatsapp.com/', '').replace('invite/', '').replace('https://', '').replace('http://', '');
  }

  async function answer(groupId, membershipIds, approve, failure) {
    requireMain();
    try {
      const codes = await rpc('group.answerRequests', { groupId: jid(groupId), participants: jids(membershipIds), approve });
      return Object.entries(codes).map(([id, code]) => ({ error: code === 200 ? null : code, wid: new Wid(id) }));
    } catch (error) {
      throw new WPPError(failure, 'Error on ' + (approve ? 'accept' : 'reject') + ' member on group ' + jid(groupId));
    }
  }

  // wa-js setIcon.ts: the picture is resized to 640x640 (cover) and sent as JPEG.
  async function jpeg640(content) {
    // Decoded here, not fetched: the page's CSP (like WhatsApp Web's) gives fetch no data: URLs.
    const text = String(content);
    const [head, data] = text.startsWith('data:') ? text.split(',', 2) : ['data:image/jpeg;base64', text];
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const type = head.slice(5).split(';')[0] || 'image/jpeg';
    const bitmap = await createImageBitmap(new Blob([bytes], { type }));
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 640;
    const scale = Math.max(640 / bitmap.width, 640 / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    canvas.getContext('2d').drawImage(bitmap, (640 - w) / 2, (640 - h) / 2, w, h);
    return canvas.toDataURL('image/jpeg').split(',', 2)[1];
  }

  sb.jpeg640 = jpeg640; // wa-account.js resizes profile pictures the same way

  const group = {
    async create(groupName, participantsIds, parentGroup) {
      requireMain();
      const raw = await rpc('group.create', { name: groupName, participants: jids(participantsIds) });
      const participants = {};
      for (const [id, code] of Object.entries(raw.participants)) {
        participants[id] = { wid: id, code, invite_code: null, invite_code_exp: null };
      }
      upsertChat(await rpc('chat', { chat: raw.gid }));
      return { gid: new Wid(raw.gid), participants };
    },
    async addParticipants(groupId, participantsIds) {
      const meta = await metadataOf(groupId, true);
      const results = await rpc('group.participants', { groupId: meta.id, participants: jids(participantsIds), operation: 'add' });
      const out = {};
      for (const [id, code] of Object.entries(results)) {
        out[id] = { wid: id, code, message: ADD_MESSAGES[code] || "Can't Join., unknown error", invite_code: null, invite_code_exp: null };
      }
      return out;
    },
    async removeParticipants(groupId, participantsIds) {
      const meta = await metadataOf(groupId, true);
      const present = jids(participantsIds).filter((id) => find(meta, id));
      if (!present.length) throw new WPPError('not_valid_group_participants', 'No valid participants found for the group ' + meta.id);
      if (present.some((id) => find(meta, id).isSuperAdmin)) {
        throw new WPPError('group_participant_is_not_a_group_member', 'Group ' + meta.id + ': Group participant is not a group member');
      }
      await change(meta, present, 'remove');
    },
    async promoteParticipants(groupId, participantsIds) {
      const { meta, wanted } = await ensureParticipants(groupId, participantsIds);
      if (wanted.some((id) => find(meta, id).isAdmin)) {
        throw new WPPError('group_participant_is_already_a_group_admin', 'Group ' + meta.id + ': Group participant is already a group admin');
      }
      await change(meta, wanted, 'promote');
    },
    async demoteParticipants(groupId, participantsIds) {
      const { meta, wanted } = await ensureParticipants(groupId, participantsIds);
      if (wanted.some((id) => !find(meta, id).isAdmin || find(meta, id).isSuperAdmin)) {
        throw new WPPError('group_participant_is_already_not_a_group_admin', 'Group ' + meta.id + ': Group participant is already not a group admin');
      }
      await change(meta, wanted, 'demote');
    },
    async getParticipants(groupId) { return participantModels(await metadataOf(groupId, false)); },
    async getInviteCode(groupId) {
      const meta = await metadataOf(groupId, true);
      return rpc('group.inviteCode', { groupId: meta.id });
    },
    async revokeInviteCode(groupId) {
      const meta = await metadataOf(groupId, true);
      return rpc('group.revokeInvite', { groupId: meta.id });
    },
    async join(inviteCode) {
      requireMain();
      try {
        const raw = await rpc('group.join', { code: inviteCodeOf(inviteCode) });
        return { id: raw.id, pendingApproval: raw.pendingApproval };
      } catch (error) {
        // WhatsApp answers an unknown or revoked code with a server status, not a WPPError code.
        const failure = new Error('ServerStatusCodeError: ' + (error && error.message));
        failure.name = 'ServerStatusCodeError';
        failure.statusCode = error && error.code === 'already_member' ? 409 : 404;
        throw failure;
      }
    },
    async getGroupInfoFromInviteCode(inviteCode) {
      requireMain();
      const code = inviteCodeOf(inviteCode);
      const raw = await rpc('group.infoFromInvite', { code }).catch(() => null);
      if (!raw) throw new WPPError('invalid_invite_code', 'Invalid Invite Code');
      return {
        descOwner: undefined, id: raw.id, owner: raw.owner, participants: raw.participants, subjectOwner: undefined,
        announce: raw.announce, creation: raw.creation, desc: raw.desc, descId: '', descTime: 0,
        noFrequentlyForwarded: false, parent: false, restrict: raw.restrict, size: raw.size, status: 200,
        subject: raw.subject, subjectTime: raw.creation, support: false, suspended: false, isParentGroup: false,
        isParentGroupClosed: false, defaultSubgroup: false, generalSubgroup: false,
        membershipApprovalMode: raw.membershipApprovalMode, isLidAddressingMode: false, generalChatAutoAddDisabled: false,
      };
    },
    async leave(groupId) {
      const meta = await metadataOf(groupId, false);
      await rpc('group.leave', { groupId: meta.id });
    },
    async setSubject(groupId, subject) {
      const meta = await metadataOf(groupId, false);
      if (meta.restrict && !myRole(meta).isAdmin) {
        throw new WPPError('you_are_not_allowed_set_group_subject', 'You are not allowed to set group subject in ' + meta.id);
      }
      return rpc('group.set', { groupId: meta.id, subject });
    },
    async setDescription(groupId, description) {
      const meta = await metadataOf(groupId, false);
      if (meta.restrict && !myRole(meta).isAdmin) {
        throw new WPPError('you_are_not_allowed_set_group_description', 'You are not allowed to set group description in ' + meta.id);
      }
      return rpc('group.set', { groupId: meta.id, description });
    },
    async setProperty(groupId, property, value) {
      const meta = await metadataOf(groupId, false);
      if (property !== 'announcement' && !myRole(meta).isAdmin) {
        throw new WPPError('you_are_not_allowed_set_group_property', 'You are not allowed to set property in ' + meta.id);
      }
      let setting = value;
      if (property === 'ephemeral') {
        if (typeof setting === 'boolean' || setting === 1) setting = 604800;
        if (!EPHEMERAL.includes(setting)) throw new WPPError('invalid_ephemeral_duration', 'Invalid ephemeral duration');
      } else {
        setting = !!setting;
      }
      await rpc('group.property', { groupId: meta.id, property, value: setting });
      return true;
    },
    async setIcon(groupId, content) {
      const meta = await metadataOf(groupId, false);
      if (meta.restrict && !myRole(meta).isAdmin) {
        throw new WPPError('group_you_are_restricted_member', 'You are a restricted member in ' + meta.id);
      }
      const raw = await rpc('group.picture', { groupId: meta.id, data: await jpeg640(content) });
      return { eurl: location.origin + '/_wa/picture/' + meta.id, status: raw.status, tag: String(Date.now()), token: '', _duplicate: false };
    },
    async removeIcon(groupId) {
      const meta = await metadataOf(groupId, false);
      return (await rpc('group.picture', { groupId: meta.id, data: null })).status === 200;
    },
    async getMembershipRequests(groupId) {
      const meta = await metadataOf(groupId, false);
      const raws = await rpc('group.requests', { groupId: meta.id });
      return raws.map((r) => ({ addedBy: new Wid(r.addedBy), id: new Wid(r.id), requestMethod: r.requestMethod, t: r.t }));
    },
    async approve(groupId, membershipIds) { return answer(groupId, membershipIds, true, 'error_on_accept_membership_request'); },
    async reject(groupId, membershipIds) { return answer(groupId, membershipIds, false, 'error_on_reject_membership_request'); },
    // wa-js getAllGroups.ts: the groups the server says we are in (queryAllGroups), as chats of the store
    // (a group we left keeps its chat, but is not listed).
    async getAllGroups() {
      requireMain();
      const mine = await rpc('group.all', {});
      return Promise.all(mine.map(async (g) => state.chats.get(g.id) || upsertChat(await rpc('chat', { chat: g.id }))));
    },
    async iAmMember(groupId) { return !!(await metadataOf(groupId, false).catch(() => null)); },
    async iAmAdmin(groupId) { return myRole(await metadataOf(groupId, false)).isAdmin; },
    async iAmSuperAdmin(groupId) { return myRole(await metadataOf(groupId, false)).isSuperAdmin; },
    async iAmRestrictedMember(groupId) {
      const meta = await metadataOf(groupId, false);
      return !!meta.restrict && !myRole(meta).isAdmin;
    },
    async ensureGroup(groupId, checkIsAdmin) {
      const meta = await metadataOf(groupId, checkIsAdmin);
      return upsertChat(await rpc('chat', { chat: meta.id }));
    },
  };

  window.WPP.group = group;
});
