"""Actions on existing messages (react, edit, delete, star, pin, vote) and what is read back about them (live
history, stored reactions).

Actions run on the session's engine at once and answer when WhatsApp took them (unlike sends, which are
queued): an unknown message is 404 MESSAGE_NOT_FOUND, a refusal 403 ENGINE_REFUSED, an action the engine
lacks 501 ENGINE_NOT_SUPPORTED. The stored record, when there is one, is then brought up to date (body after
an edit, `revoked` after a delete for everyone, `starred`, the own reaction): the engine's own events say the
same a moment later, and writing the same values twice is harmless.
"""

from __future__ import annotations

import time
from typing import Any

from functions.core.chats import Capability, chat_kind, group_reactions
from functions.core.clock import iso, utcnow
from functions.services.messages import MessageNotFound
from functions.services.session_engine import SessionEngine
from functions.state.messages import MessageRepository


class MessageActionService:
    def __init__(self, engine: SessionEngine, messages: MessageRepository) -> None:
        self._engine, self._messages = engine, messages

    def react(self, session_id: str, message_id: str, emoji: str) -> None:
        """Set the own reaction to `emoji`, or remove it with ""."""
        session = self._engine.ready(session_id)
        self._engine.call(session_id, Capability.MESSAGE_REACT, self._wa_id(session_id, message_id), emoji)
        if session.phone:
            self._set_own_reaction(session_id, message_id, f"{session.phone}@c.us", emoji)

    def _set_own_reaction(self, session_id: str, message_id: str, sender: str, emoji: str) -> None:
        record = self._messages.get(session_id, message_id)
        if record is None:
            return
        reactions = dict(record.get("reactions") or {})
        if emoji:
            reactions[sender] = {"emoji": emoji, "timestamp": int(time.time())}
        else:
            reactions.pop(sender, None)
        self._messages.update(session_id, message_id, reactions=reactions)

    def edit(self, session_id: str, message_id: str, text: str, mentions: list[str]) -> dict[str, Any]:
        """Replace the text of an own message; answers OpenWA's `{messageId, timestamp}`."""
        wa_id = self._wa_id(session_id, message_id)
        self._engine.call(session_id, Capability.MESSAGE_EDIT, wa_id, text, mentions)
        now = utcnow()
        self._messages.update(session_id, message_id, body=text, editedAt=iso(now), updatedAt=iso(now))
        return {"messageId": message_id, "timestamp": int(now.timestamp())}

    def delete(self, session_id: str, chat_id: str, message_id: str, *, for_everyone: bool) -> None:
        """Delete for everyone (the record becomes `revoked`) or only on this account."""
        wa_id = self._wa_id(session_id, message_id)
        self._engine.call(session_id, Capability.MESSAGE_DELETE, chat_id, wa_id, for_everyone)
        now = iso(utcnow())
        if for_everyone:
            self._messages.update(
                session_id, message_id, type="revoked", body="", revokedAt=now, updatedAt=now
            )
        else:
            self._messages.update(session_id, message_id, deletedForMe=True, updatedAt=now)

    def star(self, session_id: str, message_id: str, *, star: bool) -> None:
        self._engine.call(session_id, Capability.MESSAGE_STAR, self._wa_id(session_id, message_id), star)
        self._messages.update(session_id, message_id, starred=star, updatedAt=iso(utcnow()))

    def pin(self, session_id: str, message_id: str, seconds: int) -> None:
        """Pin in its chat for `seconds` (86400, 604800 or 2592000)."""
        self._engine.call(session_id, Capability.MESSAGE_PIN, self._wa_id(session_id, message_id), seconds)
        until = int(time.time()) + seconds
        self._messages.update(session_id, message_id, pinnedUntil=until, updatedAt=iso(utcnow()))

    def unpin(self, session_id: str, message_id: str) -> None:
        self._engine.call(session_id, Capability.MESSAGE_UNPIN, self._wa_id(session_id, message_id))
        self._messages.update(session_id, message_id, pinnedUntil=None, updatedAt=iso(utcnow()))

    def vote(self, session_id: str, message_id: str, options: list[str]) -> None:
        """Vote for poll options by their texts ([] clears the vote)."""
        self._engine.call(session_id, Capability.MESSAGE_VOTE, self._wa_id(session_id, message_id), options)

    def history(self, session_id: str, chat_id: str, limit: int) -> list[dict[str, Any]]:
        """The chat's last `limit` messages read live from WhatsApp, oldest first (OpenWA IncomingMessage)."""
        messages = self._engine.call(session_id, Capability.CHAT_HISTORY, chat_id, limit)
        return [
            {
                **self._as_recorded(session_id, message),
                "kind": chat_kind(str(message.get("chatId") or chat_id)),
            }
            for message in messages
        ]

    def _wa_id(self, session_id: str, message_id: str) -> str:
        """The key WhatsApp knows message `message_id` by: its record's `waMessageId` (a send's id is ours;
        WhatsApp's may name the chat's @lid, or carry a group participant), else `message_id` itself."""
        record = self._messages.get(session_id, message_id)
        return str(record.get("waMessageId") or message_id) if record else message_id

    def _as_recorded(self, session_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """A live message under the id of its record (matched by bare id), WhatsApp's key kept aside."""
        wa_id = str(message.get("id") or "")
        record_id = self._messages.resolve(session_id, wa_id) if wa_id else None
        if record_id is None or record_id == wa_id:
            return message
        return {**message, "id": record_id, "waMessageId": message.get("waMessageId") or wa_id}

    def reactions(self, session_id: str, chat_id: str, message_id: str) -> list[dict[str, Any]]:
        """A stored message's reactions grouped by emoji; MessageNotFound when there is no such record."""
        self._engine.session(session_id)
        record = self._messages.get(session_id, message_id)
        if record is None or record.get("chatId") != chat_id:
            raise MessageNotFound(details={"messageId": message_id})
        return group_reactions(record.get("reactions"))
