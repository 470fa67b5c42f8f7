"""wa-js events that are not people's messages -> OpenWA's group, call, presence and status events.

Pure functions of the JSON the bridge forwards (payload shapes: `reference/openwa.md` §4.2):
- `gp2` messages (WhatsApp Web's group notifications, in its message store like any message; whatsapp-web.js
  derives its group events from them the same way) -> `group.join` (add, invite, linked_group_join, create),
  `group.leave` (remove, leave), `group.join_request` (membership_approval_request), `group.update`
  (everything else: promote/demote as `changes.role`, subject, description, picture, and the announce and
  restrict (`locked`) settings as `changes.<name>`).
  They are the one source: wa-js's `group.participant_changed` says the same for membership changes only.
- `call.incoming_call` -> `call.received`.
- `chat.presence_change` (wa-js subscribes every chat at main_ready) -> `presence.update`, with OpenWA's
  (Baileys') states: typing -> composing, recording_audio -> recording.
- a message of `status@broadcast` -> `status.received` (epoch ms, 24 h lifetime; `runner.stories` stores it
  and its media, and says whether the media was kept).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from functions.core.clock import iso

STATUS_BROADCAST = "status@broadcast"
STATUS_LIFETIME_MS = 24 * 3600 * 1000
_JOIN = {"add", "invite", "linked_group_join", "create"}
_LEAVE = {"remove", "leave"}
_ROLE = {"promote": "admin", "demote": "member"}
_SWITCHES = {"announce": "announce", "restrict": "locked"}
_PRESENCE_STATES = {"typing": "composing", "recording_audio": "recording"}


def jid(value: Any) -> str:
    """A serialized jid or key (`Wid`/`MsgKey` JSON is either the string or `{_serialized}`)."""
    if isinstance(value, dict):
        return str(value.get("_serialized") or "")
    return str(value or "")


def is_status(msg: dict[str, Any]) -> bool:
    key = msg.get("id")
    remote = jid(key.get("remote")) if isinstance(key, dict) else ""
    return STATUS_BROADCAST in (remote, jid(msg.get("from")), jid(msg.get("to")))


def has_media(msg: dict[str, Any]) -> bool:
    """Whether a message carries media: WhatsApp Web sets `directPath` (whatsapp-web.js's `hasMedia` test),
    and its `body` is then a base64 thumbnail, never text."""
    return bool(msg.get("directPath") or msg.get("mediaKey") or msg.get("mimetype"))


def group_event(msg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The group event a `gp2` message stands for."""
    subtype = str(msg.get("subtype") or "")
    key = msg.get("id")
    group_id = (jid(key.get("remote")) if isinstance(key, dict) else "") or jid(msg.get("from"))
    actor = jid(msg.get("author")) or None
    participants = [jid(r) for r in msg.get("recipients") or []]
    data: dict[str, Any] = {
        "groupId": group_id,
        "actorId": actor,
        "participantIds": participants,
        "timestamp": int(msg.get("t") or time.time()),
    }
    if subtype in _JOIN:
        return "group.join", data
    if subtype in _LEAVE:
        return "group.leave", data
    if subtype == "membership_approval_request":
        return "group.join_request", {**data, "participantIds": participants or [actor]}
    return "group.update", {**data, "changes": _changes(subtype, msg.get("body"))}


def _changes(subtype: str, body: Any) -> dict[str, Any]:
    """`group.update`'s `changes`: a role, a new subject or description, or a setting as a boolean (WhatsApp
    writes `on`/`off` for announce and restrict, OpenWA calls restrict `locked`; a picture set or removed)."""
    if subtype in _ROLE:
        return {"role": _ROLE[subtype]}
    if subtype in _SWITCHES:
        return {_SWITCHES[subtype]: body == "on"}
    if subtype == "picture":
        return {"picture": body != "removed"}
    return {subtype: body or None}


def call_data(payload: dict[str, Any]) -> dict[str, Any]:
    """`call.received` from wa-js's `call.incoming_call` (`sender` is the caller without a device)."""
    caller = jid(payload.get("sender")) or jid(payload.get("peerJid")).split(":", 1)[0]
    if caller and "@" not in caller:
        caller += "@c.us"
    return {
        "callId": str(payload.get("id") or ""),
        "from": caller,
        "isVideo": bool(payload.get("isVideo")),
        "isGroup": bool(payload.get("isGroup")),
        "timestamp": int(payload.get("offerTime") or time.time()),
    }


def presence_data(payload: dict[str, Any]) -> dict[str, Any]:
    """`presence.update` from wa-js's `chat.presence_change` (its `t` is the page's Date.now())."""
    chat = jid(payload.get("id"))
    people = payload.get("participants") or [{"id": chat, "state": payload.get("state")}]
    seen_ms = float(payload.get("t") or time.time() * 1000)
    return {
        "chatId": chat,
        "participants": [
            {
                "id": jid(person.get("id")),
                "state": _PRESENCE_STATES.get(str(person.get("state")), person.get("state")),
                "lastSeen": None,
            }
            for person in people
            if isinstance(person, dict)
        ],
        "observedAt": iso(datetime.fromtimestamp(seen_ms / 1000, UTC)),
    }


def status_data(msg: dict[str, Any], kind: str) -> dict[str, Any]:
    """`status.received` from a `status@broadcast` message (`kind`: OpenWA's message type)."""
    media = has_media(msg)
    key = msg.get("id")
    poster = jid(msg.get("author")) or (jid(key.get("participant")) if isinstance(key, dict) else "")
    posted_ms = int(msg.get("t") or time.time()) * 1000
    data: dict[str, Any] = {
        "statusId": jid(key),
        "contact": {"id": poster, "name": msg.get("notifyName"), "pushName": msg.get("notifyName")},
        "type": kind,
        "caption": (msg.get("caption") if media else msg.get("body")) or None,
        "hasMedia": media,
        "mediaOmitted": False,  # the story store (runner.stories) says otherwise when it cannot keep it
        "postedAt": posted_ms,
        "expiresAt": posted_ms + STATUS_LIFETIME_MS,
    }
    # A text story's look: WhatsApp Web keeps the colour as an ARGB number (wa-js assertColor), OpenWA
    # speaks `#RRGGBB` (its send-text body).
    if not media and isinstance(msg.get("backgroundColor"), int):
        data["backgroundColor"] = f"#{msg['backgroundColor'] & 0xFFFFFF:06X}"
    if not media and isinstance(msg.get("font"), int):
        data["font"] = msg["font"]
    return data
