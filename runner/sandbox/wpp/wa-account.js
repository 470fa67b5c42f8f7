/*
 * The WPP double, part 4 (injected after wa-group.js): the account's own surfaces, as wa-js's dist declares
 * them: WPP.profile's picture (setMyProfilePicture resizes to 640x640 JPEG like setIcon and answers the
 * server's {eurl, status, tag, token, _duplicate}; removeMyProfilePicture answers a boolean), and the address
 * book, WPP.contact.save/remove (assertWid's invalid_wid, save's send_the_required_fields, remove's
 * contact_not_found and number_is_not_your_contact; both answer the ContactModel afterwards), presence:
 * WPP.conn.markAvailable/markUnavailable (the account's contacts see it online or offline) and
 * WPP.contact.subscribePresence/unsubscribePresence (an id that is not a Wid is skipped; the Wids
 * subscribed), and WPP.call.reject (reject.ts: the given call, or the first incoming one; call_not_found,
 * call_is_not_incoming_ring).
 */
window.__wppDouble.part(function (sb) {
  'use strict';
  const { Wid, WPPError, state, rpc, requireMain, jid } = sb;

  // wa-js assertWid: a user, LID or group id, else invalid_wid.
  function assertWid(value) {
    const id = jid(value);
    if (!/^\d{5,30}(-\d{5,20})?@(c\.us|lid|g\.us)$/.test(id)) throw new WPPError('invalid_wid', 'Invalid WID value for ' + id);
    return new Wid(id);
  }

  function validWids(ids) {
    return (Array.isArray(ids) ? ids : [ids]).flatMap((id) => { try { return [assertWid(id)]; } catch (error) { return []; } });
  }

  function contactModel(raw) { return raw ? { ...raw, id: new Wid(raw.id) } : undefined; }

  Object.assign(window.WPP.profile, {
    async setMyProfilePicture(content) {
      requireMain();
      const raw = await rpc('profile.picture', { data: await sb.jpeg640(content) });
      return { eurl: location.origin + '/_wa/picture/' + state.me.wid.split('@')[0], status: raw.status, tag: String(Date.now()), token: '', _duplicate: false };
    },
    async removeMyProfilePicture() {
      requireMain();
      return (await rpc('profile.picture', { data: null })).status === 200;
    },
  });

  Object.assign(window.WPP.contact, {
    async save(contactId, firstName, options) {
      requireMain();
      if (!contactId || !firstName) throw new WPPError('send_the_required_fields', 'Please, send the contact id like <number@c.us> and the name for your contact');
      assertWid(contactId);
      const opts = options || {};
      const lastName = opts.lastName || opts.surname;
      return contactModel(await rpc('contact.save', { id: jid(contactId), firstName, lastName }));
    },
    async remove(contactId) {
      requireMain();
      return contactModel(await rpc('contact.remove', { id: assertWid(contactId)._serialized }));
    },
    // subscribePresence.ts: an id that fails is skipped, not thrown; the answer lists those subscribed.
    async subscribePresence(ids) { return validWids(ids); },
    async unsubscribePresence(ids) { return validWids(ids); },
  });

  // The calls that rang on this page, newest last (wa-js reads them from CallStore).
  const incoming = [];
  const MAX_INCOMING = 100;
  window.WPP.on('call.incoming_call', (call) => {
    incoming.push(String(call.id));
    if (incoming.length > MAX_INCOMING) incoming.shift();
  });

  window.WPP.call = {
    async reject(callId) {
      const id = callId || incoming[0];
      if (!id) throw new WPPError('call_not_found', 'Call <empty> not found');
      await rpc('call.reject', { callId: String(id) });
      const index = incoming.indexOf(String(id));
      if (index >= 0) incoming.splice(index, 1);
      return true;
    },
  };

  Object.assign(window.WPP.conn, {
    // markAvailable.ts: sets the stream's availability and answers true (before linking nobody is told).
    async markAvailable(available) {
      if (state.mainReady) await rpc('presence.available', { available: available !== false });
      return true;
    },
    async markUnavailable() { return window.WPP.conn.markAvailable(false); },
  });
});
