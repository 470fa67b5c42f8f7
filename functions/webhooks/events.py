"""Event names, content-derived idempotency keys and the delivery body (`reference/openwa.md` §4.1-4.4).

The body `{event, timestamp, sessionId, idempotencyKey, deliveryId, data}` is serialised once per delivery;
those exact bytes are stored, signed and sent on every attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

EVENT_NAMES: tuple[str, ...] = (
    "message.received",
    "message.sent",
    "message.ack",
    "message.failed",
    "message.revoked",
    "message.reaction",
    "message.edited",
    # Ours: the media of a `message.received` that arrived while storage was down is stored now (its URL).
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
    # In the OpenWA SDK's WebhookEvent literal (an engine's answer to an async request); accepted so SDK
    # callers are never refused.
    "event.response",
)
WILDCARD = "*"
TEST_EVENT = "test"


class PayloadTooLarge(Exception):
    """The serialised body exceeds the cap even without inline media."""


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _message_id(data: dict[str, Any]) -> Any:
    return data.get("messageId") or data.get("id")


_BASE_KEYS: dict[str, Callable[[str, dict[str, Any], str], str | None]] = {
    "message.received": lambda sid, d, _: f"msg_{sid}_{d['id']}" if d.get("id") else None,
    "message.sent": lambda sid, d, _: f"msg_{sid}_{d['id']}" if d.get("id") else None,
    "message.ack": lambda sid, d, _: f"ack_{sid}_{_message_id(d)}_{d.get('status', d.get('ack'))}",
    "message.failed": lambda sid, d, _: f"failed_{sid}_{_message_id(d)}_{d.get('status', 'failed')}",
    "message.revoked": lambda sid, d, _: f"rev_{sid}_{d.get('revokedId') or d.get('id')}",
    "message.edited": lambda sid, d, at: f"edit_{sid}_{_message_id(d)}_{d.get('timestamp', at)}",
    "message.reaction": lambda sid, d, at: f"react_{sid}_{d.get('messageId')}_{d.get('senderId')}_{at}",
    "message.media_ready": lambda sid, d, _: f"media_{sid}_{d.get('messageId')}",
    "session.qr": lambda sid, d, _: f"qr_{sid}_{_digest(d.get('qr'))}",
    "session.status": lambda sid, d, at: f"sess_{sid}_{d.get('status')}_{at}",
    "session.authenticated": lambda sid, d, at: f"auth_{sid}_{at}",
    "session.disconnected": lambda sid, d, at: f"disc_{sid}_{at}",
    "session.restriction": lambda sid, d, at: f"restr_{sid}_{d.get('kind')}_{at}",
    "presence.update": lambda sid, d, at: f"pres_{sid}_{_digest(d)}",
    "call.received": lambda sid, d, _: f"call_{sid}_{d['callId']}" if d.get("callId") else None,
}
for _outcome in ("accepted", "rejected", "missed"):
    _BASE_KEYS[f"call.{_outcome}"] = (
        lambda sid, d, _, o=_outcome: f"call_{sid}_{d['callId']}_{o}" if d.get("callId") else None  # type: ignore[misc]
    )
for _kind in ("join", "leave", "update", "join_request"):
    _BASE_KEYS[f"group.{_kind}"] = (
        lambda sid, d, at, k=_kind: f"grp_{d.get('groupId')}_{_digest(d)}_{k}_{sid}"  # type: ignore[misc]
    )


def idempotency_key(
    session_id: str, event: str, data: dict[str, Any], occurred_at: str, webhook_id: str
) -> str:
    """The per-webhook key `<base>_<webhookId>`: derived from the content, so the same event published
    twice (a producer retry, a reconciler replay, a redrive) carries the same key to the same webhook.

    `occurred_at` disambiguates events that carry no natural id (status changes, edits, reactions).
    Falls back to `evt_<sid>_<event>_<hash of data and time>` when the event's id field is missing.
    """
    build = _BASE_KEYS.get(event)
    base = build(session_id, data, occurred_at) if build else None
    if not base:
        base = f"evt_{session_id}_{event}_{_digest([data, occurred_at])}"
    return f"{base}_{webhook_id}"


def shed_inline_media(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` whose inline media bytes are replaced by `{omitted: true, sizeBytes}`."""
    media = data.get("media")
    if not isinstance(media, dict) or "data" not in media:
        return data
    size = media.get("sizeBytes") or len(str(media.get("data") or "")) * 3 // 4
    trimmed = {key: value for key, value in media.items() if key != "data"}
    return {**data, "media": {**trimmed, "omitted": True, "sizeBytes": size}}


def render_body(
    *,
    event: str,
    timestamp: str,
    session_id: str,
    idempotency_key: str,
    delivery_id: str,
    data: dict[str, Any],
    max_bytes: int,
) -> bytes:
    """Serialise the delivery body once; sheds inline media if it is over `max_bytes`, then raises
    PayloadTooLarge if it still is."""
    envelope = {
        "event": event,
        "timestamp": timestamp,
        "sessionId": session_id,
        "idempotencyKey": idempotency_key,
        "deliveryId": delivery_id,
        "data": data,
    }
    body = orjson.dumps(envelope)
    if len(body) <= max_bytes:
        return body
    body = orjson.dumps({**envelope, "data": shed_inline_media(data)})
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body is {len(body)} bytes, over the {max_bytes}-byte cap")
    return body
