// page.evaluate(script, [offset, limit]): the chat list as ChatSummary rows, most recent first (capabilities.py).
// Only the requested page has its last message looked up (one getMessages call per chat).
async ([offset, limit]) => {
  const chats = (await WPP.chat.list()).slice().sort((a, b) => (b.t || 0) - (a.t || 0));
  const rows = [];
  for (const chat of chats.slice(offset, offset + limit)) {
    const id = String(chat.id._serialized || chat.id);
    const last = await WPP.chat.getMessages(id, { count: 1 }).then((found) => found[found.length - 1] || null, () => null);
    const mute = chat.mute || {};
    rows.push({
      id,
      name: chat.formattedTitle || chat.name || '',
      isGroup: !!chat.isGroup,
      unreadCount: chat.unreadCount || 0,
      t: chat.t || 0,
      archive: !!chat.archive,
      pin: !!chat.pin,
      isMuted: mute.isMuted !== undefined ? !!mute.isMuted : !!chat.isMuted,
      muteExpiration: Number(mute.expiration !== undefined ? mute.expiration : chat.muteExpiration || 0),
      last,
    });
  }
  return { total: chats.length, rows };
}
