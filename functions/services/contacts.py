"""The session's contacts: list, one contact, number check, profile picture, block list.

Asked of the session's engine at once (see `functions.services.session_engine`); shapes are OpenWA's
(`Contact {id, name, pushName, number, isMyContact, isBlocked, profilePicUrl}`, `{number, exists,
whatsappId}`, `{url}`, `{success, message}`).
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class ContactService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def page(self, session_id: str, *, limit: int, offset: int) -> list[dict[str, Any]]:
        contacts: list[dict[str, Any]] = self._engine.call(session_id, Capability.CONTACTS)
        return contacts[offset : offset + limit]

    def blocked(self, session_id: str) -> list[str]:
        return [str(jid) for jid in self._engine.call(session_id, Capability.BLOCKED)]

    def check(self, session_id: str, number: str) -> dict[str, Any]:
        """Whether `number` (digits) is on WhatsApp, and its WhatsApp id when it is."""
        found = self._engine.call(session_id, Capability.CONTACT_CHECK, f"{number}@c.us")
        return {"number": number, "exists": found is not None, "whatsappId": found}

    def get(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """One contact; ContactNotFound (404) when WhatsApp has none under that id."""
        contact: dict[str, Any] = self._engine.call(session_id, Capability.CONTACT, contact_id)
        return contact

    def profile_picture(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """`{url}`: the picture's URL, or None when the contact shows none."""
        return {"url": self._engine.call(session_id, Capability.CONTACT_PICTURE, contact_id)}

    def block(self, session_id: str, contact_id: str, *, block: bool) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CONTACT_BLOCK, contact_id, block))
        verb = "blocked" if block else "unblocked"
        message = f"Contact {verb}" if done else f"WhatsApp did not confirm the contact is {verb}"
        return {"success": done, "message": message}
