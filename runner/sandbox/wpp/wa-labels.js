/*
 * The WPP double, part 6 (injected after wa-status.js): WhatsApp Business labels, WPP.labels as wa-js's
 * dist/labels declares it, and WPP.profile.isBusiness (Conn.isSMB). As in wa-js: getAllLabels and
 * getLabelById read the label store without asking whether the account is a business one (an account that
 * is not has no labels; getLabelById's canot_get_label_error); every write first asserts it
 * (is_not_business). addNewLabel and editLabel take a colour as an index or as the palette's hex (a hex
 * becomes its index), read a falsy colour as "none given" (addNewLabel then picks the next free colour,
 * editLabel keeps the label's), and refuse one outside the palette (color_not_in_pallet); editLabel's
 * unknown id is label_not_exist; deleteLabel answers {id, deleteLabelResult} and does not throw for an
 * unknown id; addOrRemoveLabels needs each chat in the chat store (assertGetChat: chat_not_found). A chat's
 * labels are its ChatModel's `labels` (label ids), and WPP.chat.list({withLabels}) keeps the chats carrying
 * one of the given labels (by id, or by name: a name is read as its label's id first, as list.ts does).
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { Wid, WPPError, state, rpc, requireMain, jid, upsertChat } = sb;

  function assertIsBusiness() {
    if (!(state.me && state.me.business)) throw new WPPError('is_not_business', 'This account is not a business version');
  }

  // wa-js's Label {id, name, color, count, hexColor, colorIndex} (labels/types.d.ts).
  function label(raw) {
    return { id: raw.id, name: raw.name, color: parseInt(raw.hexColor.slice(1), 16), count: raw.count, hexColor: raw.hexColor, colorIndex: raw.colorIndex };
  }

  async function palette() { return (await rpc('labels.palette', {})).palette; }

  // addNewLabel.ts/editLabel.ts: a hex string becomes its palette index, then the palette must have it.
  async function colorIndex(value) {
    let color = value;
    if (typeof color === 'string' && color.length > 2) color = (await palette()).findIndex((hex) => hex === color);
    color = parseInt(String(color), 10);
    if (!(color >= 0 && color < (await palette()).length)) throw new WPPError('color_not_in_pallet', 'Color not in pallet');
    return color;
  }

  async function all() { requireMain(); return (await rpc('labels.list', {})).map(label); }

  const labels = {
    async getAllLabels() { return all(); },
    async getLabelById(labelId) {
      const found = (await all()).find((l) => l.id === String(labelId));
      if (!found) throw new WPPError('canot_get_label_error', "Can't get label by id");
      return found;
    },
    async getLabelColorPalette() { assertIsBusiness(); return palette(); },
    async colorIsInLabelPalette(color) {
      assertIsBusiness();
      const colors = await palette();
      return colors.includes(String(color)) || colors[parseInt(String(color), 10)] != null;
    },
    async addNewLabel(labelName, options) {
      requireMain();
      assertIsBusiness();
      const given = (options || {}).labelColor || undefined;
      const args = { name: String(labelName) };
      if (given !== undefined) args.color = await colorIndex(given);
      return label(await rpc('labels.add', args));
    },
    async editLabel(id, options) {
      requireMain();
      assertIsBusiness();
      const opts = options || {};
      const current = (await all()).find((l) => l.id === String(id));
      if (!current) throw new WPPError('label_not_exist', `Label with id ${id} not exist`);
      const given = opts.labelColor || undefined;
      const color = given === undefined ? current.colorIndex : (await colorIndex(given)) || current.colorIndex;
      return label(await rpc('labels.edit', { id: String(id), name: opts.name || current.name, color }));
    },
    async deleteLabel(id) {
      requireMain();
      assertIsBusiness();
      const one = async (labelId) => ({ id: labelId, deleteLabelResult: (await rpc('labels.delete', { id: String(labelId) })).deleted });
      if (!Array.isArray(id)) return one(id);
      const out = [];
      for (const labelId of id) out.push(await one(labelId));
      return out;
    },
    async addOrRemoveLabels(chatIds, options) {
      requireMain();
      assertIsBusiness();
      const chats = (Array.isArray(chatIds) ? chatIds : [chatIds]).map((chatId) => {
        const found = state.chats.get(jid(chatId));
        if (!found) throw new WPPError('chat_not_found', `Chat not found for ${jid(chatId)}`);
        return jid(chatId);
      });
      for (const chat of chats) {
        for (const option of Array.isArray(options) ? options : [options]) {
          upsertChat(await rpc('labels.chat', { chat, id: String(option.labelId), add: option.type === 'add' }));
        }
      }
      return chats.map((chat) => ({ wid: new Wid(chat) }));
    },
  };

  window.WPP.labels = labels;
  window.WPP.profile.isBusiness = function isBusiness() { return !!(state.me && state.me.business); };

  // list.ts: withLabels keeps the chats carrying one of the labels (names are read as their ids first).
  const list = window.WPP.chat.list;
  window.WPP.chat.list = async function (options) {
    const o = options || {};
    if (!o.withLabels) return list(options);
    const known = await all();
    const wanted = o.withLabels.map((name) => { const byName = known.find((l) => l.name === name); return byName ? byName.id : name; });
    const chats = (await list({ ...o, withLabels: undefined, count: undefined }))
      .filter((chat) => (chat.labels || []).some((id) => wanted.includes(id)));
    return typeof o.count === 'number' && o.count >= 0 ? chats.slice(0, o.count) : chats;
  };
});
