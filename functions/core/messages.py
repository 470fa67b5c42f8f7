"""Messages in our vocabulary: ids, chat ids, statuses and the outbound content a send job carries.

Pure domain code (no Redis, no Flask). Wire names follow OpenWA (`reference/openwa.md` §3.2 and §4.2).
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from typing import Any

from functions.core.errors import DomainError


class MessageStatus(StrEnum):
    """OpenWA message statuses; outbound ones only move forward (pending → sent → delivered → read)."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


# How far along a status is; a status update never moves a message backwards. `failed` is final, but a
# message that failed locally can still be reported delivered by WhatsApp (it did get there after all).
STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.FAILED: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}

# wa-js ack levels → statuses (4 = played, a voice note listened to, counts as read).
ACK_STATUS = {
    -1: MessageStatus.FAILED,
    0: MessageStatus.PENDING,
    1: MessageStatus.SENT,
    2: MessageStatus.DELIVERED,
    3: MessageStatus.READ,
    4: MessageStatus.READ,
}


def status_for_ack(ack: int) -> MessageStatus:
    return ACK_STATUS.get(ack, MessageStatus.SENT)


class InvalidChatId(DomainError):
    status, code, default_message = 400, "INVALID_CHAT_ID", "Invalid WhatsApp chat id"


# Neutral WhatsApp ids (DESIGN §1.1). Group ids are `<creator>-<time>@g.us` (old) or digits (new).
_CHAT_ID = re.compile(
    r"^(?:\d{5,20}@c\.us|\d{5,20}(?:-\d{5,20})?@g\.us|\d{5,25}@lid|\d{5,25}@newsletter|status@broadcast)$"
)
_PHONE = re.compile(r"^\+?[\d\s().-]{5,30}$")


def normalize_chat_id(value: str) -> str:
    """A chat id in its canonical form: `+1 (555) 010-0000` → `15550100000@c.us`, `@s.whatsapp.net` →
    `@c.us`. Raises InvalidChatId (400) for anything that is not a WhatsApp chat id or a phone number."""
    text = value.strip()
    if text.endswith("@s.whatsapp.net"):
        text = text.removesuffix("@s.whatsapp.net") + "@c.us"
    if "@" not in text and _PHONE.match(text):
        digits = re.sub(r"\D", "", text)
        if 5 <= len(digits) <= 20:
            return f"{digits}@c.us"
    if _CHAT_ID.match(text):
        return text
    raise InvalidChatId(f"'{value}' is not a WhatsApp chat id (<digits>@c.us, <id>@g.us, <id>@lid...)")


def new_message_id(chat_id: str) -> str:
    """A WhatsApp Web id for an own message: `true_<chatId>_3EB0<20 uppercase hex>` (DESIGN §1.2)."""
    return f"true_{chat_id}_3EB0{secrets.token_hex(10).upper()}"


def bare_message_id(message_id: str) -> str:
    """The key part WhatsApp Web sends with (`3EB0...`), from a serialized id."""
    parts = message_id.split("_")
    return parts[2] if len(parts) >= 3 else message_id


def chat_of_message(message_id: str) -> str | None:
    """The chat a serialized message id (`<fromMe>_<chat>_<id>[_<participant>]`) belongs to."""
    parts = message_id.split("_")
    return parts[1] if len(parts) >= 3 else None


# Outbound content kinds, and the OpenWA message `type` each produces.
CONTENT_TYPES = {
    "text": "text",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "ptt": "voice",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
    "contact": "contact",
    "poll": "poll",
    "forward": "text",
}
MEDIA_KINDS = frozenset({"image", "video", "audio", "ptt", "document", "sticker"})


def message_type(content: dict[str, Any]) -> str:
    return CONTENT_TYPES.get(str(content.get("kind")), "unknown")
