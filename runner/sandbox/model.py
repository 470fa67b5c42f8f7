"""The network's records. Plain dataclasses that round-trip through JSON (see `store.py`).

Numbers are bare digits (`15551234567`); chats are jids. A message is stored once, from its sender's point of
view (`chat` is the recipient's jid or the group); `views.py` renders it as each participant sees it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# wa-js ACK values (dist/whatsapp/enums/ACK.d.ts).
ACK_FAILED = -1
ACK_CLOCK = 0
ACK_SENT = 1
ACK_RECEIVED = 2
ACK_READ = 3
ACK_PLAYED = 4

ROLE_MEMBER = "member"
ROLE_ADMIN = "admin"
ROLE_SUPERADMIN = "superadmin"


@dataclass
class Media:
    sha256: str
    mimetype: str
    size: int
    filename: str | None = None


@dataclass
class Message:
    id: str  # bare stanza id (3EB0...)
    sender: str  # author's number
    chat: str  # sender's view: the recipient's user jid, or the group jid
    type: str  # wa-js msg types: chat, image, video, audio, ptt, document, sticker, location, vcard, ...
    t: int  # epoch seconds
    body: str = ""
    caption: str | None = None
    media: Media | None = None
    quoted: str | None = None  # bare id of the quoted message
    extra: dict[str, Any] = field(default_factory=dict)  # location, vcards, poll, ...
    acks: dict[str, int] = field(default_factory=dict)  # recipient number -> ACK
    reactions: dict[str, str] = field(default_factory=dict)  # reactor number -> emoji
    votes: dict[str, list[int]] = field(default_factory=dict)  # voter number -> option indexes
    mentions: list[str] = field(default_factory=list)
    deleted_for: list[str] = field(default_factory=list)  # numbers that deleted it "for me"
    starred_by: list[str] = field(default_factory=list)
    revoked: bool = False
    edited: bool = False
    forwarded: bool = False
    pinned_until: int = 0  # epoch seconds a pin in the chat lasts; 0 = not pinned
    from_device: str | None = None  # the linked device that sent it; None when the phone did


@dataclass
class ChatState:
    """One phone's settings for one chat (archive, pin, mute, unread)."""

    archive: bool = False
    pin: bool = False
    mute_expiration: int = 0
    unread: int = 0
    marked_unread: bool = False
    cleared_at: int = 0  # messages at or before this time are hidden (clear)
    hidden: bool = False  # deleted chat; reappears with the next message
    t: int = 0  # last activity
    labels: list[str] = field(default_factory=list)  # business label ids on this chat (rpc_labels.py)


@dataclass
class Device:
    id: str  # <number>:<n>@c.us, as WhatsApp numbers companion devices
    token: str
    number: str
    linked_at: int
    # What the page showed of itself when it last connected (user agent, navigator.webdriver), as
    # WhatsApp's servers see a companion's client.
    client: dict[str, Any] = field(default_factory=dict)


@dataclass
class Phone:
    number: str
    name: str
    about: str = "Hey there! I am using WhatsApp."
    picture: str | None = None  # sha256 of stored image bytes
    blocked: list[str] = field(default_factory=list)  # jids
    # Address-book changes the owner made (jid -> saved name, None once removed). Every sandbox phone starts
    # out in every other's address book; only a change made here overrides that (rpc_account.py).
    address_book: dict[str, str | None] = field(default_factory=dict)
    chats: dict[str, ChatState] = field(default_factory=dict)
    device_counter: int = 0
    business: bool = False  # a WhatsApp Business account: it has labels (rpc_labels.py)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # label id -> {"name", "color"}
    label_counter: int = 0  # WhatsApp numbers labels itself and does not reuse an id


@dataclass
class Group:
    id: str
    subject: str
    owner: str
    t: int
    participants: dict[str, str] = field(default_factory=dict)  # number -> role
    description: str = ""
    invite_code: str = ""
    past: list[str] = field(default_factory=list)
    announce: bool = False  # only admins send messages
    restrict: bool = False  # only admins edit the group's info ("locked")
    member_add_mode: str = "admin_add"  # or "all_member_add": who may add participants
    approval: bool = False  # joining by invite link needs an admin's approval
    ephemeral: int = 0  # disappearing messages, seconds (0 = off)
    picture: str | None = None  # sha256 of the stored image
    # Pending membership requests: number -> {"t", "method", "addedBy"}.
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Channel:
    """A WhatsApp Channel (newsletter): its owner posts, followers read (runner/sandbox/channels.py)."""

    id: str  # <digits>@newsletter
    name: str
    owner: str  # number
    invite_code: str
    t: int
    description: str = ""
    followers: list[str] = field(default_factory=list)  # numbers
    muted_by: list[str] = field(default_factory=list)  # numbers
    posts: list[dict[str, Any]] = field(default_factory=list)  # {"id", "body", "t"}, oldest first


@dataclass
class NetworkState:
    phones: dict[str, Phone] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)  # token -> device
    messages: dict[str, Message] = field(default_factory=dict)  # id -> message, in send order
    groups: dict[str, Group] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkState:
        """Rebuild from `to_json()` output; unknown keys are an error (the file is ours)."""
        phones = {
            number: Phone(**{**raw, "chats": {jid: ChatState(**c) for jid, c in raw["chats"].items()}})
            for number, raw in data.get("phones", {}).items()
        }
        messages = {
            mid: Message(**{**raw, "media": Media(**raw["media"]) if raw.get("media") else None})
            for mid, raw in data.get("messages", {}).items()
        }
        return cls(
            phones=phones,
            devices={token: Device(**raw) for token, raw in data.get("devices", {}).items()},
            messages=messages,
            groups={gid: Group(**raw) for gid, raw in data.get("groups", {}).items()},
            channels={cid: Channel(**raw) for cid, raw in data.get("channels", {}).items()},
        )
