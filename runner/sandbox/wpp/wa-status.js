/*
 * The WPP double, part 5 (injected after wa-account.js): stories, WPP.status as wa-js's dist/status declares
 * it. sendTextStatus takes a font only in 0-5 (else 0) and reads backgroundColor through assertColor (a
 * "#RRGGBB" string or a number, as ARGB; invalid_color for another type is never reached: other types are
 * ignored and the default black is used); sendImageStatus/sendVideoStatus send a file to status@broadcast
 * with a key from us (fromMe, remote status@broadcast, our participant). WhatsApp Web sends a story like any
 * message of status@broadcast, so WPP.chat.sendFileMessage to status@broadcast posts one too (a voice story
 * is a `ptt` file sent there): prepareRawMessage.ts's key checks apply (message_key_is_not_from_me,
 * message_key_remote_id_is_not_same_of_chat). remove(id) looks the story up (msg_not_found) and answers
 * error_on_remove_status when it cannot revoke it. Every send waits for the server (waitForAck, wa-js's
 * default for stories) and answers SendMessageReturn.
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { MsgKey, WPPError, rpc, requireMain, upsertMsg, jid, toBase64 } = sb;
  const STATUS = 'status@broadcast';

  // wa-js assertColor: a number is ARGB as is, a string "#RGB..." gets an opaque alpha.
  function assertColor(value) {
    if (typeof value === 'number') return value > 0 ? value : 4294967295 + Number(value) + 1;
    let hex = String(value).trim().replace('#', '');
    if (hex.length <= 6) hex = 'FF' + hex.padStart(6, '0');
    return parseInt(hex, 16);
  }

  function sendReturn(msg) {
    const result = { messageSendResult: msg.ack < 0 ? 'ERROR_UNKNOWN' : 'OK', t: msg.t, count: null };
    return { id: msg.id._serialized, from: String(msg.from), to: String(msg.to), ack: msg.ack, sendMsgResult: result };
  }

  // prepareRawMessage.ts: a caller's key must be ours and of status@broadcast.
  function ownStatusKey(messageId) {
    if (!messageId) return undefined;
    const key = typeof messageId === 'string' ? MsgKey.fromString(messageId) : messageId;
    if (!key.fromMe) throw new WPPError('message_key_is_not_from_me', 'Message key is not from me');
    if (String(key.remote._serialized || key.remote) !== STATUS) {
      throw new WPPError('message_key_remote_id_is_not_same_of_chat', 'Message key remote ID is not same of chat');
    }
    return key.id;
  }

  async function post(spec, options) {
    requireMain();
    const body = { ...spec };
    const id = ownStatusKey((options || {}).messageId);
    if (id) body.messageId = id;
    return sendReturn(upsertMsg(await rpc('status.post', body)));
  }

  async function postFile(content, options, mediaType) {
    const opts = options || {};
    const file = await toBase64(content);
    const media = { base64: file.base64, mimetype: opts.mimetype || file.mimetype || 'application/octet-stream' };
    return post({ media, caption: opts.caption || undefined, mediaType }, opts);
  }

  window.WPP.status = {
    async sendTextStatus(content, options) {
      const opts = options || {};
      let backgroundColor = assertColor('#000000');
      if (['number', 'string'].includes(typeof opts.backgroundColor)) backgroundColor = assertColor(opts.backgroundColor);
      const font = opts.font && opts.font >= 0 && opts.font <= 5 ? opts.font : 0;
      return post({ text: String(content), backgroundColor, font }, opts);
    },
    async sendImageStatus(content, options) { return postFile(content, options, 'image'); },
    async sendVideoStatus(content, options) { return postFile(content, options, 'video'); },
    async remove(msgId) {
      requireMain();
      const id = typeof msgId === 'string' ? msgId : String(msgId._serialized || msgId);
      await window.WPP.chat.getMessageById(id); // msg_not_found, as wa-js looks it up first
      try {
        return await rpc('status.remove', { msgId: id });
      } catch (error) {
        throw new WPPError('error_on_remove_status', 'Error on remove status with id ' + id);
      }
    },
  };

  const sendFileMessage = window.WPP.chat.sendFileMessage;
  window.WPP.chat.sendFileMessage = async function (chatId, content, options) {
    if (jid(chatId) !== STATUS) return sendFileMessage(chatId, content, options);
    const opts = options || {};
    const type = opts.type === 'audio' && opts.isPtt ? 'ptt' : opts.type;
    return postFile(content, opts, type && type !== 'auto-detect' ? type : undefined);
  };
});
