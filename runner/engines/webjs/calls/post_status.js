// page.evaluate(script, [kind, content, options]): post one story (WPP.status, dist/status/functions).
// Text goes through sendTextStatus (options: backgroundColor, font), an image or a video through
// sendImageStatus/sendVideoStatus (options: caption). wa-js has no voice story function: a voice note is a
// `ptt` file sent to status@broadcast, with the key sendVideoStatus builds itself (fromMe, remote
// status@broadcast, our participant), given as a string (prepareRawMessage.ts reads it with MsgKey.fromString).
// waitForAck is wa-js's default for stories: the answer comes once the server took it.
async ([kind, content, options]) => {
  let sent;
  if (kind === 'text') {
    sent = await WPP.status.sendTextStatus(content, options);
  } else if (kind === 'image') {
    sent = await WPP.status.sendImageStatus(content, options);
  } else if (kind === 'video') {
    sent = await WPP.status.sendVideoStatus(content, options);
  } else {
    const me = WPP.conn.getMyUserId();
    const hex = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0'));
    const key = 'true_status@broadcast_3EB0' + hex.join('').toUpperCase() + '_' + String(me._serialized || me);
    sent = await WPP.chat.sendFileMessage('status@broadcast', content, {
      type: 'audio', isPtt: true, messageId: key, waitForAck: true, createChat: true,
    });
  }
  const result = sent && sent.sendMsgResult;
  return {
    id: String((sent.id && sent.id._serialized) || sent.id),
    ack: sent.ack || 0,
    sendResult: result ? String(result.messageSendResult || result) : null,
  };
}
