// page.evaluate(script, [action, args]): one WhatsApp Channel (newsletter) operation (channels.py), answering
// OpenWA's Channel / ChannelMessage as plain JSON. The channels the account follows or owns are the chat
// store's newsletters (WPP.chat.list onlyNewsletter); their ChatModel carries `newsletterMetadata` (name,
// description, inviteCode, size, verified, creationTime). A channel the account has not got is
// `channel_not_found`. wa-js 4.6.0 has no invite-code lookup: subscribing finds the code in the channel
// directory (WPP.newsletter.search), then follows the channel it names.
async ([action, args]) => {
  const fail = (code, message) => { throw Object.assign(new Error(message), { code }); };
  const MEDIA = ['image', 'video', 'audio', 'ptt', 'document', 'sticker'];
  const record = (chat) => {
    const meta = chat.newsletterMetadata || {};
    const out = { id: String(chat.id._serialized || chat.id), name: String(meta.name || chat.name || '') };
    if (meta.description) out.description = String(meta.description);
    if (meta.inviteCode) out.inviteCode = String(meta.inviteCode);
    if (meta.size != null) out.subscriberCount = Number(meta.size);
    if (meta.verified != null) out.verified = !!meta.verified;
    if (meta.creationTime) out.createdAt = Number(meta.creationTime);
    return out;
  };
  const mine = async () => WPP.chat.list({ onlyNewsletter: true });
  const find = async (id) => {
    const found = (await mine()).find((chat) => String(chat.id._serialized || chat.id) === id);
    return found || fail('channel_not_found', 'Channel ' + id + ' not found');
  };
  switch (action) {
    case 'list':
      return (await mine()).map(record);
    case 'get':
      return record(await find(args.id));
    case 'messages': {
      await find(args.id);
      const found = await WPP.chat.getMessages(args.id, { count: args.count });
      return found.map((m) => ({
        id: String((m.id && m.id._serialized) || m.id),
        body: String(m.body || m.caption || ''),
        timestamp: Number(m.t || 0),
        hasMedia: MEDIA.includes(m.type),
      }));
    }
    case 'create': {
      const made = await WPP.newsletter.create(args.name, { description: args.description || undefined });
      const out = { id: String(made.idJid), name: String(made.name || args.name), inviteCode: String(made.inviteCode) };
      if (made.description) out.description = String(made.description);
      if (made.subscribersCount != null) out.subscriberCount = Number(made.subscribersCount);
      if (made.timestamp) out.createdAt = Number(made.timestamp);
      return out;
    }
    case 'delete': {
      await find(args.id);
      // destroy.ts answers false (it swallows WhatsApp's refusal) when the account does not own the channel.
      return (await WPP.newsletter.destroy(args.id)) || fail('not_channel_owner', 'Only the owner can delete a channel');
    }
    case 'mute':
      await find(args.id);
      await WPP.newsletter.mute(args.id, args.mute);
      return true;
    case 'subscribe': {
      const result = await WPP.newsletter.search(args.code, { limit: 50 });
      const hit = (result.newsletters || []).find((n) => n.inviteCode === args.code);
      if (!hit) fail('channel_invite_invalid', 'No channel has the invite code ' + args.code);
      await WPP.newsletter.follow(hit.idJid);
      const followed = (await mine()).find((chat) => String(chat.id._serialized || chat.id) === hit.idJid);
      if (followed) return record(followed);
      const out = { id: String(hit.idJid), name: String(hit.name || ''), inviteCode: String(hit.inviteCode) };
      if (hit.description) out.description = String(hit.description);
      if (hit.subscribersCount != null) out.subscriberCount = Number(hit.subscribersCount);
      return out;
    }
    case 'unsubscribe':
      await find(args.id);
      return !!(await WPP.newsletter.unfollow(args.id));
    default:
      return fail('unknown_action', 'unknown channel action ' + action);
  }
}
