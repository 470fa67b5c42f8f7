"""How a stored record looks to one participant: the raw shapes the page wraps into wa-js models.

Field names follow WhatsApp Web's models (MsgModel, ChatModel, ContactModel, GroupMetadata as declared in
wa-js `dist/whatsapp/models`); jids are strings here and become `Wid` objects in the page.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from runner.sandbox.ids import is_group, new_message_id, serialize_key, user_jid
from runner.sandbox.model import (
    ACK_READ,
    ROLE_MEMBER,
    ROLE_SUPERADMIN,
    ChatState,
    Message,
    NetworkState,
    Phone,
)

STATUS_BROADCAST = "status@broadcast"  # the chat status posts arrive in


def key_view(message: Message, viewer: str) -> dict[str, Any]:
    """The message's MsgKey as `viewer` sees it (fromMe, remote, id, participant, _serialized), by phone
    number; the page sees it by LID (`lids.to_page`: a 1:1 remote, a group's participant, ours included)."""
    from_me = message.sender == viewer
    group = is_group(message.chat)
    status = message.chat == STATUS_BROADCAST  # a status post: the poster is the participant
    remote = message.chat if (group or status or from_me) else user_jid(message.sender)
    participant = user_jid(message.sender) if group or status else None
    return {
        "fromMe": from_me,
        "remote": remote,
        "id": message.id,
        "participant": participant,
        "_serialized": serialize_key(from_me, remote, message.id, participant),
    }


def thumbnail(sha256: str) -> str:
    """A media message's `body` as WhatsApp Web has it: a base64 JPEG thumbnail (here a stand-in made from
    the media's hash, so it is stable and plainly not text)."""
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes.fromhex(sha256) * 4
    return base64.b64encode(jpeg + b"\xff\xd9").decode()


def aggregate_ack(message: Message) -> int:
    """The sender's tick: the lowest ack over the recipients (a group is read when everyone read)."""
    return min(message.acks.values()) if message.acks else 1


def message_view(state: NetworkState, message: Message, viewer: str, *, new: bool = False) -> dict[str, Any]:
    """A raw MsgModel for `viewer`; `new` sets isNewMsg (true only for live chat.new_message events)."""
    key = key_view(message, viewer)
    sender = state.phones.get(message.sender)
    me = user_jid(viewer)
    view: dict[str, Any] = {
        "id": key,
        "type": "revoked" if message.revoked else message.type,
        "body": "" if message.revoked else message.body,
        "t": message.t,
        "from": me if key["fromMe"] else key["remote"],
        "to": message.chat if key["fromMe"] else me,
        "author": key["participant"],
        "ack": aggregate_ack(message),
        "isNewMsg": new,
        "notifyName": sender.name if sender else "",
        "star": viewer in message.starred_by,
        "isForwarded": message.forwarded,
        "mentionedJidList": list(message.mentions),
        "latestEditMsgKey": None,
        "isEdited": message.edited,
    }
    if message.revoked:
        return view
    if message.caption is not None:
        view["caption"] = message.caption
    if message.media:
        view.update(
            body=thumbnail(message.media.sha256),  # WhatsApp Web's media `body` is its thumbnail, not text
            mimetype=message.media.mimetype,
            filename=message.media.filename,
            size=message.media.size,
            filehash=message.media.sha256,
            directPath=f"/_wa/media/{message.id}",
        )
    if message.quoted and message.quoted in state.messages:
        # The quoted message's key is not a field: wa-js derives `quotedMsgId` from these in a prototype
        # getter (getQuotedMsgKey.ts), so it is not in serialize(); the page's MsgModel does the same.
        quoted = key_view(state.messages[message.quoted], viewer)
        view["quotedStanzaID"] = quoted["id"]
        view["quotedParticipant"] = quoted["participant"] or user_jid(state.messages[message.quoted].sender)
        if quoted["remote"] != key["remote"]:
            view["quotedRemoteJid"] = quoted["remote"]
    view.update(message.extra)
    return view


def system_message(
    chat: str, viewer: str, kind: str, *, subtype: str = "", author: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A raw MsgModel of a system message of `chat` as phone `viewer` sees it (never from them)."""
    message_id = new_message_id()
    participant = user_jid(author) if author and is_group(chat) else None
    return {
        "id": {
            "fromMe": False,
            "remote": chat,
            "id": message_id,
            "participant": participant,
            "_serialized": serialize_key(False, chat, message_id, participant),
        },
        "type": kind,
        "subtype": subtype,
        "body": "",
        "t": int(time.time()),
        "from": chat,
        "to": user_jid(viewer),
        "author": user_jid(author) if author else None,
        "ack": 0,
        "isNewMsg": True,
        "notifyName": "",
        **fields,
    }


def inbox_view(state: NetworkState, message: Message, viewer: str, media: bytes | None) -> dict[str, Any]:
    """A message as the control API reports it for phone `viewer` (media bytes inline as base64)."""
    key = key_view(message, viewer)
    view: dict[str, Any] = {
        "id": key["_serialized"],
        "stanzaId": message.id,
        "from": user_jid(message.sender),
        "to": message.chat,
        "chat": key["remote"],
        "fromMe": key["fromMe"],
        "type": "revoked" if message.revoked else message.type,
        "body": "" if message.revoked else message.body,
        "caption": message.caption,
        "t": message.t,
        "ack": message.acks.get(viewer, aggregate_ack(message))
        if not key["fromMe"]
        else aggregate_ack(message),
        "quotedId": key_view(state.messages[message.quoted], viewer)["_serialized"]
        if message.quoted in state.messages
        else None,
        "reactions": dict(message.reactions),
        "votes": dict(message.votes),
        "edited": message.edited,
        "forwarded": message.forwarded,
        "starred": viewer in message.starred_by,
        "pinnedUntil": message.pinned_until,
        "mentions": list(message.mentions),
        "media": None,
    }
    view.update({k: v for k, v in message.extra.items() if k not in view})
    if message.media and not message.revoked:
        view["media"] = {
            "mimetype": message.media.mimetype,
            "filename": message.media.filename,
            "size": message.media.size,
            "sha256": message.media.sha256,
            "base64": base64.b64encode(media).decode() if media is not None else None,
        }
    return view


def phone_view(phone: Phone, devices: list[str]) -> dict[str, Any]:
    return {
        "number": phone.number,
        "id": user_jid(phone.number),
        "name": phone.name,
        "about": phone.about,
        "devices": devices,
        "blocked": list(phone.blocked),
        "business": phone.business,
    }


def contact_view(state: NetworkState, jid: str, viewer: Phone | None = None) -> dict[str, Any]:
    """A ContactModel-like record for a user or group jid (as `viewer`'s address book has it, when given)."""
    if is_group(jid):
        group = state.groups.get(jid)
        name = group.subject if group else ""
        return {"id": jid, "name": name, "formattedName": name, "isGroup": True, "isUser": False}
    phone = state.phones.get(jid.split("@")[0])
    pushname = name = phone.name if phone else ""
    listed = phone is not None
    book = viewer.address_book if viewer is not None else {}
    if jid in book:  # saved under a name of the viewer's, or removed
        name, listed = book[jid] or "", book[jid] is not None
    return {
        "id": jid,
        "name": name,
        "pushname": pushname,
        "shortName": name.split(" ")[0] if name else "",
        "formattedName": name or jid.split("@")[0],
        "isMyContact": listed,
        "isUser": True,
        "isGroup": False,
        "isBusiness": False,
        "isWAContact": phone is not None,
    }


def chat_view(state: NetworkState, chat: str, settings: ChatState) -> dict[str, Any]:
    """A raw ChatModel of `chat` for the phone whose `settings` for it these are (`Network.chat_state`)."""
    contact = contact_view(state, chat)
    return {
        "id": chat,
        "name": contact["name"],
        "formattedTitle": contact["formattedName"],
        "isGroup": is_group(chat),
        "isUser": not is_group(chat),
        "unreadCount": -1 if settings.marked_unread and not settings.unread else settings.unread,
        "archive": settings.archive,
        "pin": 1 if settings.pin else 0,
        "muteExpiration": settings.mute_expiration,
        "isMuted": settings.mute_expiration != 0,
        "isReadOnly": False,
        "t": settings.t,
        "groupMetadata": group_metadata_view(state, chat),
        "labels": list(settings.labels),  # ModelChatBase.labels: the business label ids on the chat
    }


def group_metadata_view(state: NetworkState, group_id: str) -> dict[str, Any] | None:
    group = state.groups.get(group_id)
    if group is None:
        return None
    return {
        "id": group.id,
        "subject": group.subject,
        "desc": group.description,
        "owner": user_jid(group.owner),
        "creation": group.t,
        "participants": [
            {
                "id": user_jid(number),
                "isAdmin": role != ROLE_MEMBER,
                "isSuperAdmin": role == ROLE_SUPERADMIN,
            }
            for number, role in group.participants.items()
        ],
        "pastParticipants": [{"id": user_jid(number)} for number in group.past],
        # GroupMetadataModel's settings (whatsapp/models/GroupMetadataModel.d.ts).
        "announce": group.announce,
        "restrict": group.restrict,
        "memberAddMode": group.member_add_mode,
        "membershipApprovalMode": group.approval,
        "ephemeralDuration": group.ephemeral,
        "size": len(group.participants),
        "parentGroup": None,
        "isParentGroup": False,
        "isLidAddressingMode": False,
    }


def is_read(message: Message, reader: str) -> bool:
    return message.acks.get(reader, 0) >= ACK_READ
