// page.evaluate(script, [chatId, content, messageId, firstAttempt]): one send of any kind (see engine.py
// _SEND_MESSAGE). wa-js takes `messageId` as a full key (prepareRawMessage.ts): from us, its remote the chat
// wa-js resolves (WPP.chat.find: often the @lid chat of a phone number), and in a group our participant, by
// LID, as generateMessageID.ts adds it. An id WhatsApp already has is not sent again; on a first attempt it
// cannot have it yet.
async ([chat, c, id, firstAttempt]) => {
  const target = await WPP.chat.find(chat);
  const remote = String(target.id._serialized || target.id);
  const bare = id ? id.split('_')[id.includes('_') ? 2 : 0] : null;
  let key = null;
  if (bare) {
    const me = remote.endsWith('@g.us') ? WPP.conn.getMyUserLid() || WPP.conn.getMyUserId() : null;
    key = 'true_' + remote + '_' + bare + (me ? '_' + String(me._serialized || me) : '');
  }
  const answer = (sent, existed) => {
    const result = sent.sendMsgResult;
    return {
      id: String(sent.id._serialized || sent.id), ack: sent.ack || 0, existed,
      sendResult: result ? String(result.messageSendResult) : null, remote,
    };
  };
  if (key && !firstAttempt) {
    try {
      const found = await WPP.chat.getMessageById(key);
      if (found) return answer({ id: found.id, ack: found.ack, sendMsgResult: null }, true);
    } catch (error) { /* not sent yet */ }
  }
  // markIsRead: wa-js reads the chat on every send by default, telling the contact their messages were read
  // whenever the gateway writes to them; reading is the API's own call (mark-read), not a side effect.
  const options = { createChat: true, markIsRead: false };
  if (key) options.messageId = key;
  if (c.quotedMessageId) options.quotedMsg = c.quotedMessageId;
  if (c.mentions && c.mentions.length) options.mentionedList = c.mentions;
  let sent;
  switch (c.kind) {
    case 'text':
      if (c.linkPreview !== undefined) options.linkPreview = c.linkPreview;
      sent = await WPP.chat.sendTextMessage(chat, c.text, options);
      break;
    case 'image': case 'video': case 'audio': case 'ptt': case 'document': case 'sticker':
      Object.assign(options, {
        type: c.kind === 'ptt' ? 'audio' : c.kind, isPtt: c.kind === 'ptt', caption: c.caption,
        filename: c.media.filename, mimetype: c.media.mimetype,
      });
      const dataUrl = 'data:' + c.media.mimetype + ';base64,' + c.media.base64;
      sent = await WPP.chat.sendFileMessage(chat, dataUrl, options);
      break;
    case 'location':
      Object.assign(options, {
        lat: c.location.latitude, lng: c.location.longitude,
        name: c.location.description, address: c.location.address,
      });
      sent = await WPP.chat.sendLocationMessage(chat, options);
      break;
    case 'contact':
      const card = { id: c.contact.number + '@c.us', name: c.contact.name };
      sent = await WPP.chat.sendVCardContactMessage(chat, card, options);
      break;
    case 'poll':
      options.selectableCount = c.poll.selectableCount;
      sent = await WPP.chat.sendCreatePollMessage(chat, c.poll.name, c.poll.options, options);
      break;
    case 'forward':
      await WPP.chat.forwardMessage(chat, c.forwardId, {});
      return { id: null, ack: 1, existed: false, sendResult: null, remote };
    default:
      throw new Error('unknown message kind ' + c.kind);
  }
  return answer(sent, false);
}
