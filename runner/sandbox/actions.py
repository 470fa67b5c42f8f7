"""What participants do to existing messages and chats: reactions, revokes, edits, poll votes, stars, blocks,
chat settings and presence. Each function takes the network's lock and publishes what WhatsApp would push.
"""

from __future__ import annotations

import time
from typing import Any

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Message
from runner.sandbox.network import Network
from runner.sandbox.views import key_view, message_view


def _participants(network: Network, message: Message) -> list[str]:
    return [message.sender, *message.acks]


def react(network: Network, reactor: str, message_id: str, emoji: str) -> Message:
    """Set (or with "" remove) `reactor`'s reaction; every participant's devices get chat.new_reaction."""
    with network.lock:
        message = network.message(message_id)
        if emoji:
            message.reactions[reactor] = emoji
        else:
            message.reactions.pop(reactor, None)
        for number in _participants(network, message):
            event = {
                "type": "reaction",
                "msgId": key_view(message, number),
                "reactionText": emoji,
                "sender": ids.user_jid(reactor),
                "id": ids.new_message_id(),
                "t": int(time.time()),
                "fromMe": number == reactor,
            }
            network.publish(number, event)
        network.changed()
        return message


def revoke(network: Network, actor: str, message_id: str) -> Message:
    """Delete for everyone. Only the sender (or a group admin) may; everyone's devices get chat.msg_revoke."""
    with network.lock:
        message = network.message(message_id)
        admin = False
        if message.sender != actor:
            group = network.state.groups.get(message.chat)
            admin = bool(group and group.participants.get(actor, "member") != "member")
            if not admin:
                raise BadRequest(
                    "only the sender or a group admin can delete for everyone", code="not_sender"
                )
        message.revoked = True
        revoke_id = ids.new_message_id()
        for number in _participants(network, message):
            key = key_view(message, number)
            event = {
                "type": "revoke",
                "kind": "admin_revoke" if admin else "revoke",
                "refId": key,
                "id": {
                    **key,
                    "id": revoke_id,
                    "_serialized": key["_serialized"].replace(message.id, revoke_id),
                },
                "from": ids.user_jid(actor),
                "to": key["remote"],
            }
            network.publish(number, event)
        network.changed()
        return message


def edit(network: Network, actor: str, message_id: str, text: str) -> Message:
    """Replace the text of `actor`'s own text message; everyone's devices get chat.msg_edited."""
    with network.lock:
        message = network.message(message_id)
        if message.sender != actor or message.revoked:
            raise BadRequest("only the sender can edit a message", code="not_sender")
        if message.type == "chat":
            message.body = text
        else:
            message.caption = text
        message.edited = True
        for number in _participants(network, message):
            network.publish(number, {"type": "edit", "msg": message_view(network.state, message, number)})
        network.changed()
        return message


def vote(network: Network, voter: str, message_id: str, selected: list[int]) -> Message:
    """Record `voter`'s choice in a poll; everyone's devices get chat.poll_response."""
    with network.lock:
        message = network.message(message_id)
        options = message.extra.get("pollOptions")
        if message.type != "poll_creation" or not isinstance(options, list):
            raise BadRequest("the message is not a poll", code="not_a_poll")
        if any(not 0 <= index < len(options) for index in selected):
            raise BadRequest("a selected option does not exist in the poll", code="bad_option")
        message.votes[voter] = list(selected)
        for number in _participants(network, message):
            key = key_view(message, number)
            event = {
                "type": "poll",
                "msgId": key,
                "chatId": key["remote"],
                "selectedOptions": list(selected),
                "t": int(time.time()),
                "sender": ids.user_jid(voter),
            }
            network.publish(number, event)
        network.changed()
        return message


# wa-js PinExpiryDurationOption -> seconds; anything else (a number, nothing) means 7 days, as in wa-js.
PIN_DURATIONS = {
    "FiveSeconds": 5,
    "FifteenSeconds": 15,
    "OneMinute": 60,
    "OneDay": 86_400,
    "SevenDays": 604_800,
    "ThirtyDays": 2_592_000,
}


def pin(network: Network, actor: str, message_id: str, duration: object) -> Message:
    """Pin (`duration` a PinExpiryDurationOption name) or, with None, unpin a message in its chat; only a
    participant of the conversation may."""
    with network.lock:
        message = network.message(message_id)
        if actor not in _participants(network, message) or message.revoked:
            raise BadRequest("only a participant can pin a message", code="not_participant")
        seconds = PIN_DURATIONS.get(str(duration), 604_800)
        message.pinned_until = int(time.time()) + seconds if duration is not None else 0
        network.changed()
        return message


def delete_for_me(network: Network, number: str, message_ids: list[str]) -> list[Message]:
    with network.lock:
        messages = [network.message(mid) for mid in message_ids]
        for message in messages:
            if number not in message.deleted_for:
                message.deleted_for.append(number)
        network.changed()
        return messages


def _set_member(items: list[str], item: str, present: bool) -> None:
    """Make `item` present in (or absent from) `items` exactly once; idempotent either way."""
    if present and item not in items:
        items.append(item)
    if not present and item in items:
        items.remove(item)


def star(network: Network, number: str, message_id: str, on: bool) -> Message:
    with network.lock:
        message = network.message(message_id)
        _set_member(message.starred_by, number, on)
        network.changed()
        return message


def set_blocked(network: Network, number: str, jid: str, blocked: bool) -> bool:
    with network.lock:
        phone = network.phone(number)
        _set_member(phone.blocked, jid, blocked)
        network.publish(number, {"type": "blocklist", "blocked": list(phone.blocked)})
        network.changed()
        return blocked


def update_chat(network: Network, number: str, chat: str, **changes: Any) -> dict[str, Any]:
    """Change `number`'s settings for `chat` (archive, pin, mute_expiration, marked_unread, ...)."""
    with network.lock:
        state = network.chat_state(number, chat)
        for name, value in changes.items():
            setattr(state, name, value)
        network.changed()
        return {"chat": chat, **changes}


def presence(network: Network, number: str, chat: str, state: str) -> None:
    """`number` shows `state` (typing, recording, paused, available) in `chat` to the other side."""
    with network.lock:
        network.phone(number)
        entry = {"from": ids.user_jid(number), "chat": chat, "state": state, "t": int(time.time())}
        network.presence.append(entry)
        del network.presence[:-1000]
        others = network.recipients(number, chat)
        for other in others:
            remote = chat if ids.is_group(chat) else ids.user_jid(number)
            # The presence is of the chat as `other` sees it: the typist's own chat, or the group.
            network.publish(other, {"type": "presence", **entry, "chat": remote})
