// page.evaluate(script, [action, messageId, args]): one action on an existing message (capabilities.py).
// The message is looked up first, so an unknown id is reported as wa-js's own `msg_not_found` whatever the
// action itself would throw. Results are plain JSON, never models.
async ([action, id, args]) => {
  const found = await WPP.chat.getMessageById(id).catch(() => null);
  if (!found) throw Object.assign(new Error('message ' + id + ' not found'), { code: 'msg_not_found' });
  switch (action) {
    case 'react': {
      const result = await WPP.chat.sendReactionToMessage(id, args.emoji || false);
      return { ok: !result || !result.sendMsgResult || String(result.sendMsgResult).startsWith('OK') };
    }
    case 'edit': {
      const options = args.mentions && args.mentions.length ? { mentionedList: args.mentions } : {};
      const sent = await WPP.chat.editMessage(id, args.text, options);
      return { id: String(sent.id) };
    }
    case 'delete': {
      const result = await WPP.chat.deleteMessage(args.chatId, id, false, args.forEveryone);
      const one = Array.isArray(result) ? result[0] : result;
      return { ok: args.forEveryone ? !!one.isRevoked : !!(one.isDeleted || one.isRevoked) };
    }
    case 'star': {
      const result = await WPP.chat.starMessage(id, args.star);
      return { ok: !!result && result.star === args.star };
    }
    case 'pin': {
      const result = await WPP.chat.pinMsg(id, true, args.duration);
      return { ok: !!result.pinned };
    }
    case 'unpin': {
      const result = await WPP.chat.unpinMsg(id);
      return { ok: !result.pinned };
    }
    default:
      throw Object.assign(new Error('unknown message action ' + action), { code: 'not_supported' });
  }
}
