// page.evaluate(script, [action, args]): one WhatsApp Business label operation (labels.py), answering plain
// JSON, never models. Writes check the account first, with wa-js's own assertIsBusiness code
// (`is_not_business`): wa-js's getLabelById would otherwise answer an account without labels with "no such
// label". A label is looked up before it is used, so an unknown id is wa-js's `canot_get_label_error`.
async ([action, args]) => {
  const fail = (code, message) => { throw Object.assign(new Error(message), { code }); };
  const label = (l) => ({ id: String(l.id), name: String(l.name || ''), hexColor: String(l.hexColor || '') });
  const business = () => { if (!WPP.profile.isBusiness()) fail('is_not_business', 'This account is not a business version'); };
  const chatOf = async (id) => WPP.chat.get(id) || (await WPP.chat.find(id));
  const row = (chat) => ({
    id: String(chat.id._serialized || chat.id),
    name: chat.formattedTitle || chat.name || '',
    isGroup: !!chat.isGroup,
    unreadCount: chat.unreadCount || 0,
    t: chat.t || 0,
    archive: !!chat.archive,
    pin: !!chat.pin,
    isMuted: !!(chat.mute ? chat.mute.isMuted : chat.isMuted),
    muteExpiration: Number(chat.mute ? chat.mute.expiration : chat.muteExpiration || 0),
  });
  switch (action) {
    case 'list':
      return (await WPP.labels.getAllLabels()).map(label);
    case 'get':
      return label(await WPP.labels.getLabelById(args.id));
    case 'upsert': {
      business();
      // wa-js takes a colour as the palette's hex (a bare index 0 would read as "no colour").
      const options = args.color === null ? {} : { labelColor: (await WPP.labels.getLabelColorPalette())[args.color] };
      const exists = (await WPP.labels.getAllLabels()).some((l) => String(l.id) === args.id);
      const saved = exists
        ? await WPP.labels.editLabel(args.id, { name: args.name, ...options })
        : await WPP.labels.addNewLabel(args.name, options);
      return { ...label(saved), created: !exists };
    }
    case 'delete': {
      business();
      await WPP.labels.getLabelById(args.id);
      return !!(await WPP.labels.deleteLabel(args.id)).deleteLabelResult;
    }
    case 'chats':
      await WPP.labels.getLabelById(args.id);
      return (await WPP.chat.list({ withLabels: [args.id] })).map(row);
    case 'ofChat': {
      const chat = await chatOf(args.chat);
      const ids = (chat.labels || []).map(String);
      return (await WPP.labels.getAllLabels()).filter((l) => ids.includes(String(l.id))).map(label);
    }
    case 'change': {
      business();
      await WPP.labels.getLabelById(args.id);
      // By the id the chat store has it under (WhatsApp Web addresses most 1:1 chats by LID).
      const chat = await chatOf(args.chat);
      await WPP.labels.addOrRemoveLabels(chat.id, [{ labelId: args.id, type: args.add ? 'add' : 'remove' }]);
      return true;
    }
    default:
      return fail('unknown_action', 'unknown label action ' + action);
  }
}
