"""wa-js chat events -> OpenWA message events (`reference/openwa.md` §4.2 payload shapes).

Pure functions of the JSON the bridge forwards (MsgModel.serialize() and wa-js event objects), so the
mapping is testable without a browser. Unknown events map to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from runner.engines.webjs import notifications
from runner.engines.webjs.lids import by_phone

# wa-js ack levels -> OpenWA message statuses.
ACK_STATUS = {-1: "failed", 0: "pending", 1: "sent", 2: "delivered", 3: "read", 4: "played"}
# WhatsApp Web message types -> OpenWA's `type`.
MESSAGE_TYPES = {
    "chat": "text",
    "ptt": "voice",
    "vcard": "contact",
    "multi_vcard": "contact",
    "poll_creation": "poll",
    "location": "location",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
    "revoked": "revoked",
}
# System messages WhatsApp Web keeps in its message store: no one wrote them, so they are no
# message.received (OpenWA's wwebjs engine ignores them too). `gp2` ones become group events, and a call
# is call.received from call.incoming_call, not its `call_log`.
SYSTEM_TYPES = {"e2e_notification", "notification_template", "call_log", "notification", "protocol"}


def _jid(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("_serialized") or "")
    return str(value or "")


def message_data(msg: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp Web message (MsgModel.serialize()) as OpenWA's message object."""
    key = msg.get("id") or {}
    from_me = bool(key.get("fromMe")) if isinstance(key, dict) else False
    chat = _jid(msg.get("to")) if from_me else _jid(msg.get("from"))
    kind = str(msg.get("type") or "chat")
    data: dict[str, Any] = {
        "id": _jid(key) or str(key),
        "chatId": chat,
        "from": _jid(msg.get("from")),
        "to": _jid(msg.get("to")),
        "author": _jid(msg.get("author")) or None,
        # A media message's body is its base64 thumbnail on WhatsApp Web: its text is the caption.
        "body": (msg.get("caption") if notifications.has_media(msg) else msg.get("body")) or "",
        "type": MESSAGE_TYPES.get(kind, kind),
        "timestamp": int(msg.get("t") or 0),
        "isGroup": chat.endswith("@g.us"),
        "fromMe": from_me,
        "ack": int(msg.get("ack") or 0),
        "hasMedia": bool(msg.get("mimetype")),
        "contact": {"name": msg.get("notifyName"), "pushName": msg.get("notifyName")},
    }
    data.update(_extras(msg, kind))
    return data


def _extras(msg: dict[str, Any], kind: str) -> dict[str, Any]:
    """The parts beyond the body: caption, media description, location, contact card, poll, quote."""
    extras: dict[str, Any] = {}
    if msg.get("caption"):
        extras["caption"] = msg["caption"]
    if msg.get("mimetype"):
        extras["media"] = {
            "mimetype": msg["mimetype"],
            "filename": msg.get("filename"),
            "sizeBytes": msg.get("size"),
        }
    if kind == "location":
        extras["location"] = {
            "latitude": msg.get("lat"),
            "longitude": msg.get("lng"),
            "description": msg.get("loc") or None,
        }
    if kind in ("vcard", "multi_vcard"):
        cards = msg.get("vcardList") or [
            {"displayName": msg.get("vcardFormattedName"), "vcard": msg.get("body")}
        ]
        extras["vcards"] = [card.get("vcard") for card in cards]
    if kind == "poll_creation":
        extras["poll"] = {
            "name": msg.get("pollName"),
            "options": [option.get("name") for option in msg.get("pollOptions") or []],
            "selectableCount": msg.get("pollSelectableOptionsCount"),
        }
    if msg.get("quotedMsgId"):
        extras["quotedMessageId"] = _jid(msg["quotedMsgId"])
    if msg.get("mentionedJidList"):
        extras["mentionedIds"] = [_jid(m) for m in msg["mentionedJidList"]]
    return extras


def message_events(
    name: str, payload: Any, phones: Mapping[str, str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The OpenWA events one wa-js event stands for (possibly none). `phones` maps the LIDs in `payload`
    to phone jids (`lids.LidBook`): events name people and chats by phone number, as OpenWA users address
    them, and keep what WhatsApp said beside it (`chatLid`, `waMessageId`)."""
    if not isinstance(payload, dict):
        return
    wa_payload, payload = payload, by_phone(payload, phones or {})
    if name == "chat.new_message":
        if payload.get("type") == "ciphertext":
            return  # not decrypted yet: the same message comes again, decrypted (registerNewMessageEvent.ts)
        if payload.get("type") in {*SYSTEM_TYPES, "gp2"} or notifications.is_status(payload):
            yield from _not_a_message(payload)
            return
        data = message_data_by_phone(wa_payload, phones or {})
        yield ("message.sent" if data["fromMe"] else "message.received"), data
    elif name == "chat.msg_ack_change":
        for (event, data), (_, wa_data) in zip(_acks(payload), _acks(wa_payload), strict=True):
            yield event, {**data, **_as_whatsapp_said(data, wa_data)}
    elif name == "chat.msg_revoke":
        yield "message.revoked", _revoke(payload)
    elif name == "chat.new_reaction":
        yield "message.reaction", _reaction(payload)
    elif name == "chat.msg_edited":
        yield "message.edited", _edit(payload)
    elif name == "call.incoming_call":
        yield "call.received", notifications.call_data(payload)
    elif name == "chat.presence_change":
        yield "presence.update", notifications.presence_data(payload)


def _not_a_message(msg: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A group notification, a status post, or a system message (nothing)."""
    kind = str(msg.get("type") or "chat")
    if kind == "gp2":
        yield notifications.group_event(msg)
    elif kind not in SYSTEM_TYPES:
        yield "status.received", notifications.status_data(msg, MESSAGE_TYPES.get(kind, kind))


def message_data_by_phone(msg: dict[str, Any], phones: Mapping[str, str]) -> dict[str, Any]:
    """`message_data` naming chats and people by phone number (`phones`: LID -> phone jid), with the LID
    chat, key and group author WhatsApp used as `chatLid`, `waMessageId` and `authorLid` where they differ."""
    data = message_data(by_phone(msg, phones))
    data.update(_as_whatsapp_said(data, message_data(msg)))
    return data


def _as_whatsapp_said(data: dict[str, Any], wa_data: dict[str, Any]) -> dict[str, Any]:
    """The LID-addressed chat and key WhatsApp used, where they differ from the phone-addressed ones."""
    said: dict[str, Any] = {}
    if wa_data.get("chatId") != data.get("chatId") and str(wa_data.get("chatId")).endswith("@lid"):
        said["chatLid"] = wa_data["chatId"]
    if wa_data.get("id") != data.get("id"):
        said["waMessageId"] = wa_data["id"]
    if wa_data.get("author") != data.get("author") and str(wa_data.get("author")).endswith("@lid"):
        said["authorLid"] = wa_data["author"]  # a group message's sender, as WhatsApp named them
    return said


def _acks(payload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    ack = int(payload.get("ack") or 0)
    for key in payload.get("ids") or []:
        message_id = _jid(key)
        data = {"id": message_id, "messageId": message_id, "status": ACK_STATUS.get(ack, "sent"), "ack": ack}
        yield "message.ack", data


def _revoke(payload: dict[str, Any]) -> dict[str, Any]:
    revoked = _jid(payload.get("refId"))
    chat = revoked.split("_")[1] if revoked.count("_") >= 2 else _jid(payload.get("from"))
    return {
        "id": _jid(payload.get("id")),
        "revokedId": revoked,
        "chatId": chat,
        "from": _jid(payload.get("from")),
        "to": _jid(payload.get("to")),
        "type": "revoked",
        "body": "",
        "timestamp": int(payload.get("t") or time.time()),  # chat.msg_revoke has no `t`: when it arrived
    }


def _reaction(payload: dict[str, Any]) -> dict[str, Any]:
    message_id = _jid(payload.get("msgId"))
    return {
        "messageId": message_id,
        "chatId": message_id.split("_")[1] if message_id.count("_") >= 2 else None,
        "reaction": payload.get("reactionText") or "",
        "senderId": _jid(payload.get("sender")),
        "timestamp": int(payload.get("timestamp") or 0),
    }


def _edit(payload: dict[str, Any]) -> dict[str, Any]:
    msg = payload.get("msg") if isinstance(payload.get("msg"), dict) else {}
    base = message_data(msg) if msg else {}
    return {
        "messageId": _jid(payload.get("id")) or base.get("id"),
        "chatId": _jid(payload.get("chat")) or base.get("chatId"),
        "body": base.get("body", ""),
        "senderId": base.get("author") or base.get("from"),
        "from": base.get("from"),
        "to": base.get("to"),
        "fromMe": base.get("fromMe", False),
        "isGroup": base.get("isGroup", False),
        "type": base.get("type", "text"),
        "hasMedia": base.get("hasMedia", False),
        "timestamp": base.get("timestamp", 0),
    }
