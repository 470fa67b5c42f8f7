"""wa-js chat events -> OpenWA message events (`reference/openwa.md` §4.2 payload shapes).

Pure functions of the JSON the bridge forwards, so the mapping is testable without a browser. The messaging
issue widens this (media, reactions, revokes, edits); unknown events map to nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# wa-js ack levels -> OpenWA message statuses.
ACK_STATUS = {-1: "failed", 0: "pending", 1: "sent", 2: "delivered", 3: "read", 4: "played"}


def _jid(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("_serialized") or "")
    return str(value or "")


def message_data(msg: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp Web message (MsgModel.serialize()) as OpenWA's message object."""
    key = msg.get("id") or {}
    chat = _jid(msg.get("from")) if not key.get("fromMe") else _jid(msg.get("to"))
    return {
        "id": _jid(key) or str(key),
        "from": _jid(msg.get("from")),
        "to": _jid(msg.get("to")),
        "body": msg.get("body") or "",
        "type": msg.get("type") or "chat",
        "timestamp": int(msg.get("t") or 0),
        "isGroup": chat.endswith("@g.us"),
        "fromMe": bool(key.get("fromMe")),
        "hasMedia": bool(msg.get("mimetype")),
        "contact": {"name": msg.get("notifyName"), "pushName": msg.get("notifyName")},
    }


def message_events(name: str, payload: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The OpenWA events one wa-js event stands for (possibly none)."""
    if name == "chat.new_message" and isinstance(payload, dict):
        data = message_data(payload)
        yield ("message.sent" if data["fromMe"] else "message.received"), data
    elif name == "chat.msg_ack_change" and isinstance(payload, dict):
        ack = int(payload.get("ack") or 0)
        for key in payload.get("ids") or []:
            message_id = _jid(key)
            yield (
                "message.ack",
                {
                    "id": message_id,
                    "messageId": message_id,
                    "status": ACK_STATUS.get(ack, "sent"),
                    "ack": ack,
                },
            )
