// page.evaluate(script, [groupId, ids | null, approve | null]): pending membership requests
// (WPP.group.getMembershipRequests) as OpenWA's [{participantId, addedById, method, requestedAt}] when
// `approve` is null; else approve or reject `ids` (null: every pending one) with WPP.group.approve/reject,
// one {id, status, message} per id. An id with no pending request is answered here (404): wa-js would send it.
async ([groupId, ids, approve]) => {
  const key = (wid) => (wid ? String(wid._serialized || wid) : null);
  const METHODS = { InviteLink: 'invite_link', NonAdminAdd: 'non_admin_add', LinkedGroupJoin: 'linked_group_join' };
  const pending = (await WPP.group.getMembershipRequests(groupId)).map((r) => ({
    participantId: key(r.id),
    addedById: key(r.addedBy),
    method: METHODS[r.requestMethod] || undefined,
    requestedAt: r.t || undefined,
  }));
  if (approve === null) return pending;
  const waiting = new Set(pending.map((r) => r.participantId));
  const wanted = ids === null ? [...waiting] : ids;
  const todo = wanted.filter((id) => waiting.has(id));
  const answers = new Map();
  if (todo.length) {
    const done = approve ? await WPP.group.approve(groupId, todo) : await WPP.group.reject(groupId, todo);
    for (const item of done) answers.set(key(item.wid), item.error);
  }
  return wanted.map((id) => {
    if (!waiting.has(id)) return { id, status: 404, message: 'No pending request from this participant' };
    const error = answers.get(id);
    if (error == null) return { id, status: 200, message: 'OK' };
    return { id, status: Number(error) || 500, message: String(error) };
  });
}
