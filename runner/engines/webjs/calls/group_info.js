// page.evaluate(script, groupId): the group as OpenWA's GroupInfo and GroupSettings need it (groups.py), from
// wa-js's WPP.group.ensureGroup (the ChatModel and its GroupMetadataModel) and WPP.group.getParticipants.
// A chat that is not a known group rejects with wa-js's chat_not_found / not_a_group.
async (groupId) => {
  const key = (wid) => (wid ? String(wid._serialized || wid) : null);
  const chat = await WPP.group.ensureGroup(groupId, false);
  const meta = chat.groupMetadata || {};
  const participants = await WPP.group.getParticipants(groupId);
  return {
    id: key(chat.id),
    name: chat.name || meta.subject || '',
    description: meta.desc || null,
    owner: key(meta.owner),
    createdAt: meta.creation || null,
    isReadOnly: !!chat.isReadOnly,
    announce: !!meta.announce,
    restrict: !!meta.restrict,
    memberAddMode: meta.memberAddMode || null,
    ephemeralSeconds: Number(meta.ephemeralDuration || chat.ephemeralDuration || 0),
    parent: key(meta.parentGroup),
    participants: participants.map((p) => ({
      id: key(p.id),
      isAdmin: !!p.isAdmin,
      isSuperAdmin: !!p.isSuperAdmin,
    })),
  };
}
