// page.evaluate(script, [groupId, operation, ids]): add, remove, promote or demote `ids`, with one
// {id, status, message} per id, in order (groups.py makes OpenWA's {success, results[]} of them).
// wa-js refuses a whole remove/promote/demote batch when one id does not fit (removeParticipants.ts,
// promoteParticipants.ts: not a member, already an admin...), so ids that cannot change are answered here
// and only the others are sent; addParticipants reports WhatsApp's own code per id. A refusal of the whole
// batch (we are not an admin: group_you_are_not_admin) rejects, as wa-js does.
async ([groupId, operation, ids]) => {
  const key = (wid) => String((wid && wid._serialized) || wid);
  const user = (id) => id.split('@')[0];
  if (operation === 'add') {
    const codes = await WPP.group.addParticipants(groupId, ids);
    const byUser = new Map(Object.values(codes).map((r) => [user(key(r.wid)), r]));
    return ids.map((id) => {
      const found = byUser.get(user(id));
      if (!found) return { id, status: 404, message: 'Not reported by WhatsApp' };
      return { id, status: found.code, message: found.message };
    });
  }
  if (!(await WPP.group.iAmAdmin(groupId))) {
    throw { code: 'group_you_are_not_admin', message: 'You are not admin in ' + groupId };
  }
  const members = new Map();
  for (const p of await WPP.group.getParticipants(groupId)) {
    members.set(key(p.id), p);
    if (key(p.id).endsWith('@lid')) {  // LID-addressed groups: match the phone jid the caller used too
      const entry = await WPP.contact.getPnLidEntry(key(p.id)).catch(() => null);
      if (entry && entry.phoneNumber) members.set(key(entry.phoneNumber), p);
    }
  }
  const verdict = (p) => {
    if (!p) return [404, 'Not a participant of this group'];
    if (p.isSuperAdmin && operation !== 'promote') return [403, 'The group creator cannot be ' + operation + 'd'];
    if (operation === 'promote' && p.isAdmin) return [409, 'Already an admin'];
    if (operation === 'demote' && !p.isAdmin) return [409, 'Not an admin'];
    return [200, 'OK'];
  };
  const results = ids.map((id) => {
    const [status, message] = verdict(members.get(id));
    return { id, status, message };
  });
  const todo = results.filter((r) => r.status === 200).map((r) => key(members.get(r.id).id));
  if (todo.length === 0) return results;
  if (operation === 'remove') await WPP.group.removeParticipants(groupId, todo);
  else if (operation === 'promote') await WPP.group.promoteParticipants(groupId, todo);
  else await WPP.group.demoteParticipants(groupId, todo);
  return results;
}
