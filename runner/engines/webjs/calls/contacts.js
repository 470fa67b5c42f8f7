// page.evaluate(script, contactId | null): one contact (a list of zero or one) or every user contact, as
// OpenWA's Contact, with the block list applied (capabilities.py).
async (contactId) => {
  const blocked = new Set(WPP.blocklist.all().map((wid) => String(wid._serialized || wid)));
  const shape = (c) => {
    const id = String(c.id._serialized || c.id);
    return {
      id,
      name: c.name || null,
      pushName: c.pushname || null,
      number: id.endsWith('@c.us') ? id.split('@')[0] : null,
      isMyContact: !!c.isMyContact,
      isBlocked: blocked.has(id),
      profilePicUrl: null,
    };
  };
  if (contactId) {
    const found = await WPP.contact.get(contactId);
    return found ? [shape(found)] : [];
  }
  return (await WPP.contact.list()).filter((c) => !c.isGroup).map(shape);
}
