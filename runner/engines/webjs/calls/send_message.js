// page.evaluate(script, [chatId, content, messageId, firstAttempt]): one send of any kind (see engine.py
// _SEND_MESSAGE). An id WhatsApp already has is not sent again; on a first attempt it cannot have it yet.
async ([chat, c, id, firstAttempt]) => {
  const full = id && (id.includes('_') ? id : 'true_' + chat + '_' + id);
  if (full && !firstAttempt) {
    try {
      const found = await WPP.chat.getMessageById(full);
      if (found) return { id: String(found.id._serialized || found.id), ack: found.ack || 0, existed: true };
    } catch (error) { /* not sent yet */ }
  }
  const options = { createChat: true };
  if (id) options.messageId = id.includes('_') ? id.split('_')[2] : id;
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
      return { id: null, ack: 1, existed: false, errorCode: null };
    default:
      throw new Error('unknown message kind ' + c.kind);
  }
  const result = sent.sendMsgResult || {};
  return { id: String(sent.id), ack: sent.ack || 0, existed: false, errorCode: result.errorCode || null };
}
