/*
 * The WPP double, part 7 (injected after wa-labels.js): WhatsApp Channels, WPP.newsletter as wa-js's
 * dist/newsletter declares it, and the chat store's newsletters. As in wa-js: create answers
 * ResultCreateNewsletter {idJid, inviteCode, inviteLink, name, state, subscribersCount, description,
 * timestamp}; destroy refuses an id without "newsletter" (send_correctly_newsletter_id) and answers false,
 * not an error, when WhatsApp refuses (not the owner); follow/unfollow refuse an id without "@newsletter"
 * (invalid_newsletter_id), follow reports WhatsApp's refusal as newsletter_follow_failed and unfollow answers
 * true even for a channel not followed; mute goes through ensureNewsletter (chat_not_found for a channel the
 * account does not have) and answers the newsletter's ChatModel; search refuses an empty query
 * (invalid_search_query) and answers NewsletterSearchResult. WPP.chat.list({onlyNewsletter}) lists the
 * NewsletterStore (the channels followed or owned, each ChatModel with `isNewsletter` and
 * `newsletterMetadata`), and WPP.chat.getMessages reads a channel's posts.
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { WPPError, rpc, requireMain, jid } = sb;

  function model(raw) { return { ...raw, id: new sb.Wid(raw.id) }; }

  const newsletter = {
    async create(name, opts) {
      requireMain();
      const made = await rpc('newsletter.create', { name: String(name), description: (opts && opts.description) || null });
      return { ...made, inviteLink: 'https://whatsapp.com/channel/' + made.inviteCode };
    },
    async destroy(id) {
      requireMain();
      if (!id || !String(id).includes('newsletter')) throw new WPPError('send_correctly_newsletter_id', 'Please, send the correct newsletter ID.');
      try { return (await rpc('newsletter.destroy', { id: String(id) })).deleted; } catch (error) { return false; }
    },
    async follow(id) {
      requireMain();
      if (!id || !String(id).includes('@newsletter')) throw new WPPError('invalid_newsletter_id', 'Please provide a valid newsletter ID (must contain @newsletter)');
      try { return await rpc('newsletter.follow', { id: String(id) }); } catch (error) {
        throw new WPPError('newsletter_follow_failed', 'Failed to follow newsletter: ' + error.message);
      }
    },
    async unfollow(id) {
      requireMain();
      if (!id || !String(id).includes('@newsletter')) throw new WPPError('invalid_newsletter_id', 'Please provide a valid newsletter ID (must contain @newsletter)');
      return rpc('newsletter.unfollow', { id: String(id) });
    },
    async mute(newsletterId, value) {
      requireMain();
      if (value != null && typeof value !== 'boolean') throw new WPPError('invalid_mute_value', 'Mute value must be boolean');
      return model(await rpc('newsletter.mute', { id: jid(newsletterId), mute: value !== false }));
    },
    async search(query, options) {
      requireMain();
      if (!query || String(query).trim().length === 0) throw new WPPError('invalid_search_query', 'Search query cannot be empty');
      return rpc('newsletter.search', { query: String(query).trim(), limit: (options && options.limit) || 20 });
    },
  };
  window.WPP.newsletter = newsletter;

  // list.ts: onlyNewsletter lists the NewsletterStore instead of the ChatStore.
  const list = window.WPP.chat.list;
  window.WPP.chat.list = async function (options) {
    const o = options || {};
    if (!o.onlyNewsletter) return list(options);
    requireMain();
    const chats = (await rpc('newsletter.list', {})).map(model);
    return typeof o.count === 'number' && o.count >= 0 ? chats.slice(0, o.count) : chats;
  };

  // A channel's messages are its posts (getMessages answers serialized messages).
  const getMessages = window.WPP.chat.getMessages;
  window.WPP.chat.getMessages = async function (chatId, options) {
    if (!jid(chatId).endsWith('@newsletter')) return getMessages(chatId, options);
    requireMain();
    const count = options && typeof options.count === 'number' ? options.count : 20;
    return rpc('newsletter.messages', { id: jid(chatId), count });
  };
});
