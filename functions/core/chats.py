"""Chats, contacts and actions on existing messages, in our vocabulary (no Redis, no Flask).

`Capability` names the optional engine capabilities behind OpenWA's non-send routes (`reference/openwa.md`
§2.4: Sessions and chats, Messages, Contacts). The API asks a session's process for one by name; engines
that lack it answer `ENGINE_NOT_SUPPORTED` (501). The errors below cross that boundary by code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from functions.core.errors import DomainError, NotFound


class Capability(StrEnum):
    """Optional engine capabilities (`Engine.capability(name, *args)`); the arguments are in the comments."""

    MESSAGE_REACT = "message.react"  # message id, emoji ("" removes)
    MESSAGE_EDIT = "message.edit"  # message id, text, mentions
    MESSAGE_DELETE = "message.delete"  # chat id, message id, for everyone
    MESSAGE_STAR = "message.star"  # message id, star
    MESSAGE_PIN = "message.pin"  # message id, seconds
    MESSAGE_UNPIN = "message.unpin"  # message id
    MESSAGE_VOTE = "message.vote"  # message id, option texts
    CHAT_HISTORY = "chat.history"  # chat id, count -> IncomingMessage[]
    CHATS = "chats.list"  # offset, limit -> {total, chats: ChatSummary[]}
    CHAT_READ = "chat.read"  # chat id
    CHAT_UNREAD = "chat.unread"  # chat id
    CHAT_ARCHIVE = "chat.archive"  # chat id, archive
    CHAT_PIN = "chat.pin"  # chat id, pin
    CHAT_MUTE = "chat.mute"  # chat id, until (epoch seconds) or None to unmute
    CHAT_DELETE = "chat.delete"  # chat id
    CHAT_CLEAR = "chat.clear"  # chat id
    CHAT_TYPING = "chat.typing"  # chat id, typing | recording | paused
    CONTACTS = "contacts.list"  # -> Contact[]
    CONTACT = "contact.get"  # contact id -> Contact | None
    CONTACT_CHECK = "contact.check"  # contact id -> WhatsApp id | None
    CONTACT_PICTURE = "contact.picture"  # contact id -> URL | None
    CONTACT_BLOCK = "contact.block"  # contact id, block
    BLOCKED = "contacts.blocked"  # -> ids
    # Groups (functions.core.groups; shapes in runner/engines/webjs/groups.py; ParticipantRow is
    # {id, status, message}, one per requested id).
    GROUPS = "groups.list"  # -> [{id, name, linkedParentJID}]
    GROUP = "group.get"  # group id -> GroupInfo + {settings}
    GROUP_CREATE = "group.create"  # name, participant ids -> GroupSummary
    GROUP_PARTICIPANTS = "group.participants"  # group id, add|remove|promote|demote, ids -> ParticipantRow[]
    GROUP_SUBJECT = "group.subject"  # group id, subject
    GROUP_DESCRIPTION = "group.description"  # group id, description
    GROUP_SETTINGS = "group.settings"  # group id, {announce?, locked?, ephemeralSeconds?, memberAddMode?}
    GROUP_PICTURE = "group.picture"  # group id -> URL | None
    GROUP_SET_PICTURE = "group.picture.set"  # group id, data URL (None removes) -> bool
    GROUP_INVITE = "group.invite"  # group id -> code
    GROUP_REVOKE_INVITE = "group.invite.revoke"  # group id -> new code
    GROUP_JOIN_INFO = "group.joinInfo"  # code -> GroupJoinInfo
    GROUP_JOIN = "group.join"  # code -> {groupId, pendingApproval}
    GROUP_LEAVE = "group.leave"  # group id
    GROUP_REQUESTS = "group.requests"  # group id -> GroupMembershipRequest[]
    GROUP_ANSWER_REQUESTS = "group.requests.answer"  # group id, ids | None (all), approve -> ParticipantRow[]
    # The account's own profile (functions.services.profile; runner/engines/webjs/account.py).
    PROFILE_NAME = "profile.name"  # display name (1-25 characters) -> bool
    PROFILE_STATUS = "profile.status"  # about text (0-139 characters; "" clears) -> bool
    PROFILE_PICTURE = "profile.picture"  # image data URL (None removes) -> bool
    # The address book and lookups (functions.core.contacts).
    CONTACT_SAVE = "contact.save"  # phone jid, first name, last name | None -> bool
    CONTACT_REMOVE = "contact.remove"  # phone jid -> bool
    CONTACT_PHONE = "contact.phone"  # contact id -> phone jid | None
    CONTACT_PICTURES = "contact.pictures"  # contact ids -> {id: URL | None}
    # Presence (functions.services.presence; runner/engines/webjs/presence.py).
    PRESENCE_SET = "presence.set"  # available (online) or not -> bool
    PRESENCE_SUBSCRIBE = "presence.subscribe"  # chat id -> bool
    PRESENCE_GET = "presence.get"  # chat id -> ChatPresence | None (the last one the session was told)
    # Calls (functions.core.calls; runner/engines/webjs/phone_calls.py).
    CALL_REJECT = "call.reject"  # call id -> bool (CallNotFound when it is not ringing)
    CALL_LINK = "call.link"  # audio | video, start time (epoch ms) -> link
    # Stories (functions.services.stories; runner/engines/webjs/stories.py).
    STATUS_TEXT = "status.text"  # text, background colour | None, font | None -> {statusId, timestamp}
    STATUS_MEDIA = "status.media"  # image | video | voice, data URL, caption | None -> {statusId, timestamp}
    STATUS_REMOVE = "status.remove"  # own status id -> bool (StatusNotFound when it is not one)
    # Business labels (functions.core.labels; runner/engines/webjs/labels.py). Label: {id, name, hexColor}.
    LABELS = "labels.list"  # -> Label[]
    LABEL = "label.get"  # label id -> Label (LabelNotFound)
    LABEL_UPSERT = "label.upsert"  # label id, name, colour index | None -> Label + {created}
    LABEL_DELETE = "label.delete"  # label id -> bool
    LABEL_CHATS = "label.chats"  # label id -> chat rows (as CHATS rows, no last message)
    CHAT_LABELS = "chat.labels"  # chat id -> Label[]
    CHAT_LABEL = "chat.label"  # chat id, label id, add (else remove) -> bool
    # Channels (functions.core.channels; runner/engines/webjs/channels.py). Channel: OpenWA's Channel.
    CHANNELS = "channels.list"  # -> Channel[]
    CHANNEL = "channel.get"  # channel id -> Channel (ChannelNotFound)
    CHANNEL_MESSAGES = "channel.messages"  # channel id, count -> ChannelMessage[]
    CHANNEL_CREATE = "channel.create"  # name, description | None -> Channel
    CHANNEL_DELETE = "channel.delete"  # channel id -> bool (owner only)
    CHANNEL_MUTE = "channel.mute"  # channel id, mute -> bool
    CHANNEL_SUBSCRIBE = "channel.subscribe"  # invite code -> Channel (ChannelInviteInvalid)
    CHANNEL_UNSUBSCRIBE = "channel.unsubscribe"  # channel id -> bool
    CHANNEL_DEMOTE = "channel.demote"  # channel id, user id -> bool
    CHANNEL_TRANSFER = "channel.transfer"  # channel id, new owner id -> bool
    # The business catalog and interactive replies (functions.services.catalog; 501 on the webjs engine).
    CATALOG = "catalog.get"  # -> CatalogInfo | None
    CATALOG_PRODUCTS = "catalog.products"  # page, limit -> PaginatedProducts
    CATALOG_PRODUCT = "catalog.product"  # product id -> CatalogProduct | None
    SEND_PRODUCT = "message.product"  # chat id, product id, body | None -> {id, timestamp}
    CLICK_BUTTON = "message.button"  # chat id, message id, button id, text | None -> {messageId, timestamp}


class ChatNotFound(NotFound):
    code, default_message = "CHAT_NOT_FOUND", "Chat not found"


class ContactNotFound(NotFound):
    code, default_message = "CONTACT_NOT_FOUND", "Contact not found"


class EngineRefused(DomainError):
    """WhatsApp (or the engine) refused the action: not the sender, not an admin... (OpenWA's
    EngineRefusedError, 403)."""

    status, code, default_message = 403, "ENGINE_REFUSED", "WhatsApp refused this action"


# Pin windows WhatsApp offers for a message (OpenWA's `durationSeconds`).
PIN_DURATIONS = (86_400, 604_800, 2_592_000)
TYPING_STATES = ("typing", "recording", "paused")

_MESSAGE_KEY = re.compile(r"^(?:true|false)_(?P<chat>[^_\s]+)_(?P<id>[0-9A-Za-z]{6,64})(?:_[^_\s]+)?$")


def is_message_key(value: str) -> bool:
    """A serialized WhatsApp message id: `<fromMe>_<chatId>_<ID>[_<participant>]`."""
    return bool(_MESSAGE_KEY.match(value))


def chat_of_key(value: str) -> str | None:
    match = _MESSAGE_KEY.match(value)
    return match.group("chat") if match else None


def chat_kind(chat_id: str) -> str:
    """OpenWA's ChatKind of a chat id: individual, group, channel, status, broadcast or unknown."""
    if chat_id == "status@broadcast":
        return "status"
    for suffix, kind in (
        ("@c.us", "individual"),
        ("@lid", "individual"),
        ("@g.us", "group"),
        ("@newsletter", "channel"),
        ("@broadcast", "broadcast"),
    ):
        if chat_id.endswith(suffix):
            return kind
    return "unknown"


def group_reactions(reactions: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A record's `reactions` (`{senderId: {emoji, timestamp}}`) as OpenWA's MessageReaction[]:
    `[{emoji, senders: [{senderId, emoji, timestamp}]}]`, emojis in order of first appearance."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for sender, reaction in (reactions or {}).items():
        emoji = str((reaction or {}).get("emoji") or "")
        if emoji:
            entry = {"senderId": sender, "emoji": emoji, "timestamp": reaction.get("timestamp")}
            grouped.setdefault(emoji, []).append(entry)
    return [{"emoji": emoji, "senders": senders} for emoji, senders in grouped.items()]
