// The event names a webhook can subscribe to: the same list as `functions/webhooks/events.py`
// EVENT_NAMES (a test checks they agree), plus the wildcard.

export const EVENT_NAMES = [
  "message.received",
  "message.sent",
  "message.ack",
  "message.failed",
  "message.revoked",
  "message.reaction",
  "message.edited",
  "message.media_ready",
  "session.status",
  "session.qr",
  "session.authenticated",
  "session.disconnected",
  "session.reconnect_loop",
  "session.restriction",
  "presence.update",
  "group.join",
  "group.leave",
  "group.update",
  "group.join_request",
  "call.received",
  "call.accepted",
  "call.rejected",
  "call.missed",
  "status.received",
  "event.response",
];
export const WILDCARD = "*";
